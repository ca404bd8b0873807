// Micro-benchmark: CPU per request of the IAM stages on their hot paths, in-process (so the figure does not
// depend on what else the machine runs): the authorize stage with a 3-statement resource policy (auth: none),
// and SigV4 verification plus the identity policy (auth: iam). `node --import tsx bench/iam-stages.ts`
// Compare with the gateway's CPU per request on the pass-through route (`npm run bench`, "CPU µs/req").
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { createFakeClock } from '../src/core/clock.ts';
import { DefinitionSchema } from '../src/config/schema.ts';
import { parsePolicy } from '../src/security/iam/index.ts';
import { authorizeStage } from '../src/gateway/stages/authorize/stage.ts';
import { iamAuthStage } from '../src/gateway/stages/iam-auth/stage.ts';
import type { DirectoryAccessKey, IamDirectory } from '../src/iam/iam-directory.ts';
import { RESOURCE_POLICY } from './iam.ts';
import type { RequestContext } from '../src/gateway/pipeline/context.ts';
import type { StageFn } from '../src/gateway/pipeline/stage.ts';

const NOW = Date.UTC(2026, 5, 1, 12);
const clock = createFakeClock(NOW);
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';

function build(auth: 'none' | 'iam', resourcePolicy: object | undefined) {
  const def = DefinitionSchema.parse({
    apis: [{ name: 'bench', id: 'benchapi01', stages: { prod: {} }, ...(resourcePolicy ? { resourcePolicy } : {}), routes: [{ method: 'GET', path: '/bench', auth, integration: { type: 'mock' } }] }],
  });
  const api = def.apis[0]!;
  return { api, apiId: 'benchapi01', stageName: 'prod', stage: api.stages.prod!, route: api.routes[0]!, definition: def };
}

const identityPolicy = parsePolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:*/prod/GET/*' }] }, { kind: 'identity', policyId: 'bench' });
if (!identityPolicy.ok) throw new Error('policy');
const key: DirectoryAccessKey = {
  id: KEY_ID, secret: SECRET, active: true, expiresAtMs: Infinity, sessionTokenHash: null,
  caller: { arn: 'arn:aws:iam::123456789012:user/bench', accountId: '123456789012', type: 'User', username: 'bench', userid: 'AIDABENCH0000000000', tags: new Map(), accessKeyId: KEY_ID },
  policies: [identityPolicy.policy],
};
const directory = { accessKey: (id: string) => (id === KEY_ID ? key : undefined), principal: () => undefined, recordUse() {}, size: 1, reload: async () => {}, close: async () => {} } as IamDirectory;

const signer = new SignatureV4({ credentials: { accessKeyId: KEY_ID, secretAccessKey: SECRET }, region: 'us-east-1', service: 'execute-api', sha256: Sha256 });
const signed = (await signer.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 8080, path: '/prod/bench', headers: { host: '127.0.0.1:8080', 'user-agent': 'wrk', accept: '*/*' } }), { signingDate: new Date(NOW) })) as HttpRequest;
const signedRaw: string[] = [];
for (const [k, v] of Object.entries(signed.headers)) signedRaw.push(k, v);

const context = (signedRequest: boolean): RequestContext => {
  const rawHeaders = signedRequest ? signedRaw.slice() : ['host', '127.0.0.1:8080', 'user-agent', 'wrk', 'accept', '*/*'];
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] = rawHeaders[i + 1]!;
  return {
    req: { headers, rawHeaders, socket: { remoteAddress: '127.0.0.1' } },
    rawPath: '/prod/bench', rawQuery: '', httpMethod: 'GET', resourcePath: '/bench', path: '/prod/bench', pathParameters: {}, stageVariables: {},
    identity: { sourceIp: '127.0.0.1' }, requestTimeEpoch: NOW, secureTransport: false, authorizer: {}, extensions: {},
  } as unknown as RequestContext;
};

function measure(name: string, fns: StageFn[], signedRequest: boolean, baseline: number): void {
  const run = () => {
    const ctx = context(signedRequest);
    for (const fn of fns) {
      const r = fn(ctx);
      if (r !== undefined) throw new Error(`${name}: refused or not synchronous (${JSON.stringify(r)})`);
    }
  };
  run();
  for (let i = 0; i < 20_000; i++) run();
  const n = 200_000;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) run();
  const used = process.cpuUsage(t0);
  console.log(`  ${name.padEnd(56)}${(((used.user + used.system) * 1000) / n - baseline).toFixed(0).padStart(7)} ns per request`);
}

function contextCost(signedRequest: boolean): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < 200_000; i++) context(signedRequest);
  const c = process.cpuUsage(t0);
  return ((c.user + c.system) * 1000) / 200_000;
}

console.log(`IAM stages, CPU per request in-process (Node ${process.version}; the context's construction is subtracted)`);
const rp = build('none', RESOURCE_POLICY);
measure('authorize: resource policy, 3 statements (auth none)', [authorizeStage.create({ ...rp, deps: {} })!], false, contextCost(false));
const iam = build('iam', undefined);
const iamFns = [iamAuthStage.create({ ...iam, deps: { clock, iam: { directory } } })!, authorizeStage.create({ ...iam, deps: {} })!];
measure('SigV4 verification + identity policy (auth iam)', iamFns, true, contextCost(true));
const both = build('iam', RESOURCE_POLICY);
measure('SigV4 + identity policy + resource policy', [iamAuthStage.create({ ...both, deps: { clock, iam: { directory } } })!, authorizeStage.create({ ...both, deps: {} })!], true, contextCost(true));
