// Benchmark scenarios of issues 4 and 5 for bench/run.ts, each as a ratio to the pass-through route of the same
// run: the route with a realistic resource policy (3 statements, 3 conditions, wildcards; target 0.95x), and
// SigV4 with an identity policy (target 0.8x). The signed request is signed once by the AWS SDK's signer and
// replayed (valid for 5 minutes), so the load generator measures the gateway's verification, not signing.
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import type { Helpers, Result } from './scenario-types.ts';

/** The resource policy of bench/iam-policy.ts, with the API id wildcarded: the bench API's id is derived from its name. */
export const RESOURCE_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AllowLocalAndOffice', Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke',
      Resource: ['execute-api:/prod/GET/bench', 'execute-api:/prod/POST/pets', 'execute-api:/*/GET/health'],
      Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '10.0.0.0/8', '2001:db8::/32'] }, DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } },
    },
    { Sid: 'DenyAdminOutsideOffice', Effect: 'Deny', Principal: '*', Action: 'execute-api:*', Resource: 'execute-api:/*/*/admin/*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.1.0.0/16' } } },
    { Sid: 'DenyBadBots', Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { StringLike: { 'aws:UserAgent': ['*badbot*', 'curl/7.1*'] } } },
  ],
};


async function admin(h: Helpers, base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as Record<string, any>;
}

export async function runIamScenarios(h: Helpers, _passThrough: Result | undefined, results: Result[], notes: string[]): Promise<void> {
  // On a shared machine throughput drifts within minutes: the reference is a pass-through run made just before
  // and just after these scenarios (their mean), not the one at the start of `npm run bench`.
  const base = h.definition(h.upstream);
  const reference = async (label: string) => {
    const g = await h.startGateway(`iam-reference-${label}`, base);
    const r = await h.load(`gateway pass-through (IAM reference, ${label})`, `${g.url}/prod/bench`, { pid: g.proc.pid });
    await h.stop(g.proc);
    results.push(r);
    return r;
  };
  const measured: Array<[Result, string]> = [];
  const before = await reference('before');
  const rp = await h.startGateway('iam-resource-policy', { ...base, apis: [{ ...base.apis[0]!, resourcePolicy: RESOURCE_POLICY }] });
  const rpResult = await h.load('gateway resource policy (3 statements)', `${rp.url}/prod/bench`, { pid: rp.proc.pid });
  results.push(rpResult);
  measured.push([rpResult, '0.95x']);
  await h.stop(rp.proc);

  const iamDef = { ...base, apis: [{ ...base.apis[0]!, routes: base.apis[0]!.routes.map((r) => ({ ...r, auth: 'iam' })) }] };
  const g = await h.startGateway('iam-sigv4', iamDef);
  await admin(h, g.adminUrl, 'POST', '/v1/iam/policies', {
    name: 'bench', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:*/prod/GET/*' }] },
  });
  const p = await admin(h, g.adminUrl, 'POST', '/v1/iam/principals', { type: 'user', name: 'bench', policies: ['bench'] });
  const k = await admin(h, g.adminUrl, 'POST', `/v1/iam/principals/${p.principal.id}/access-keys`);
  const url = new URL(`${g.url}/prod/bench`);
  const signer = new SignatureV4({ credentials: { accessKeyId: k.accessKey.accessKeyId, secretAccessKey: k.accessKey.secretAccessKey }, region: 'us-east-1', service: 'execute-api', sha256: Sha256 });
  const signed = (await signer.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host } }))) as HttpRequest;
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host'));
  // The directory loads the new key asynchronously: wait until the signed request passes.
  for (let i = 0; i < 100; i++) {
    if ((await fetch(url, { headers })).status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const r = await h.load('gateway SigV4 + identity policy', url.href, { headers, pid: g.proc.pid });
  results.push(r);
  measured.push([r, '0.8x']);
  await h.stop(g.proc);

  const afterRun = await reference('after');
  const rps = (before.rps + afterRun.rps) / 2;
  const cpuUs = before.cpuUs && afterRun.cpuUs ? (before.cpuUs + afterRun.cpuUs) / 2 : undefined;
  for (const [m, target] of measured) {
    const cpu = m.cpuUs && cpuUs ? `; CPU per request ${m.cpuUs.toFixed(1)} µs vs ${cpuUs.toFixed(1)} µs (${(cpuUs / m.cpuUs).toFixed(2)}x)` : '';
    notes.push(`${m.name}: ${(m.rps / rps).toFixed(2)}x the pass-through route's req/s (target ${target}; reference: mean of the runs just before and after)${cpu}`);
  }
}
