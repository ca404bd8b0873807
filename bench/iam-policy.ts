// Benchmark: nanoseconds per decision for a realistic API Gateway resource policy (3 statements, 3 conditions,
// wildcards), our engine next to @cloud-copilot/iam-simulate in the same run. `node --import tsx bench/iam-policy.ts`
import { runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { createConditionContext, evaluate, parsePolicy, type EvaluationRequest } from '../src/security/iam/index.ts';

const ACCOUNT = '123456789012';
const API = `arn:aws:execute-api:us-east-1:${ACCOUNT}:abc123`;

const POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AllowOfficeAndVpn',
      Effect: 'Allow',
      Principal: '*',
      Action: 'execute-api:Invoke',
      Resource: [`${API}/prod/GET/pets/*`, `${API}/prod/POST/pets`, `${API}/*/GET/health`],
      Condition: {
        IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32'] },
        DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' },
      },
    },
    {
      Sid: 'DenyAdminOutsideOffice',
      Effect: 'Deny',
      Principal: '*',
      Action: 'execute-api:*',
      Resource: `${API}/*/*/admin/*`,
      Condition: { NotIpAddress: { 'aws:SourceIp': '10.1.0.0/16' } },
    },
    {
      Sid: 'AllowPartnersReadOnly',
      Effect: 'Allow',
      Principal: { AWS: ['arn:aws:iam::444455556666:root', `arn:aws:iam::${ACCOUNT}:role/partner-gateway`] },
      Action: 'execute-api:Invoke',
      Resource: `${API}/prod/GET/*`,
    },
  ],
};

const parsed = parsePolicy(POLICY, { kind: 'resource' });
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const compiled = [parsed.policy];

const CASES = [
  { name: 'allow (pets from office)', path: 'prod/GET/pets/42', ip: '10.2.3.4' },
  { name: 'explicit deny (admin from VPN)', path: 'prod/DELETE/admin/users', ip: '192.168.7.7' },
  { name: 'implicit deny (unknown path)', path: 'prod/PUT/orders/9', ip: '10.2.3.4' },
];

function bench(label: string, n: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`  ${label.padEnd(14)} ${ns.toFixed(0).padStart(8)} ns/decision  (${n.toLocaleString('en')} runs)`);
  return ns;
}

console.log('IAM resource policy: 3 statements, 3 conditions, wildcards (single core, Node ' + process.version + ')');
for (const c of CASES) {
  const resource = `${API}/${c.path}`;
  const ctxRecord = { 'aws:SourceIp': c.ip, 'aws:CurrentTime': '2026-11-24T12:00:00Z', 'aws:SecureTransport': 'true' };
  const request: EvaluationRequest = { action: 'execute-api:Invoke', resource, context: createConditionContext(ctxRecord) };
  const sim: Simulation = {
    request: { principal: { type: 'Anonymous' }, action: 'execute-api:Invoke', resource: { resource, accountId: ACCOUNT }, contextVariables: ctxRecord },
    identityPolicies: [], serviceControlPolicies: [], resourceControlPolicies: [],
    resourcePolicy: { __validated: true, policyDocument: POLICY, metadata: { name: 'resource-policy' } },
  };
  const ours = evaluate(compiled, request).decision;
  const theirs = String(runUnsafeSimulation(sim, {}));
  console.log(`${c.name}: portcullis=${ours} iam-simulate=${theirs}`);
  const a = bench('portcullis', 1_000_000, () => evaluate(compiled, request));
  const b = bench('iam-simulate', 5_000, () => runUnsafeSimulation(sim, {}));
  console.log(`  speed-up       ${(b / a).toFixed(0)}x`);
}

// The per-request cost when the gateway builds the context for every request (a Map of three keys).
const resource = `${API}/prod/GET/pets/42`;
bench('with context', 1_000_000, (i) => evaluate(compiled, {
  action: 'execute-api:Invoke', resource,
  context: new Map([['aws:sourceip', i & 1 ? '10.2.3.4' : '10.2.3.5'], ['aws:currenttime', '2026-11-24T12:00:00Z']]),
}));
