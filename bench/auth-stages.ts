// Micro-benchmark: CPU per request of the authentication stages on their hot paths (a JWT served from the
// verified-token cache, a custom authorizer answer served from the result cache), in-process, so the figure does
// not depend on what else the machine runs. `node --import tsx bench/auth-stages.ts`
// Compare with the gateway's CPU per request on the pass-through route (`npm run bench`, "CPU µs/req").
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { systemClock } from '../src/core/clock.ts';
import { DefinitionSchema } from '../src/config/schema.ts';
import { jwtAuthStage } from '../src/gateway/stages/jwt-auth/stage.ts';
import { customAuthStage } from '../src/gateway/stages/custom-auth/stage.ts';
import type { RequestContext } from '../src/gateway/pipeline/context.ts';
import type { StageFn } from '../src/gateway/pipeline/stage.ts';

const ISSUER = 'https://issuer.bench';
const { publicKey, privateKey } = await generateKeyPair('RS256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:*/*/*/*' }] };
const server = http.createServer((req, res) => {
  if (req.url === '/jwks') return void res.end(JSON.stringify({ keys: [jwk] }));
  req.resume();
  req.on('end', () => res.end(JSON.stringify({ principalId: 'bench', policyDocument: policy, context: { tier: 'gold' } })));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const now = Math.floor(Date.now() / 1000);
const token = await new SignJWT({ iss: ISSUER, aud: 'bench', sub: 'user-1', scope: 'bench:read', iat: now, exp: now + 3600 })
  .setProtectedHeader({ alg: 'RS256', kid: 'bench-1' })
  .sign(privateKey);

function stageFor(authorizer: object, factory: typeof jwtAuthStage | typeof customAuthStage): StageFn {
  const def = DefinitionSchema.parse({
    authorizers: { a: authorizer },
    apis: [{ name: 'bench', stages: { prod: {} }, routes: [{ method: 'GET', path: '/bench', auth: { authorizer: 'a' }, integration: { type: 'mock' } }] }],
  });
  const api = def.apis[0];
  return factory.create({ api, apiId: 'benchapi01', stageName: 'prod', stage: api.stages.prod, route: api.routes[0], definition: def, deps: { clock: systemClock } })!;
}

const context = (): RequestContext =>
  ({
    req: { headers: { host: 'gw', 'user-agent': 'wrk', accept: '*/*', authorization: `Bearer ${token}` } },
    rawQuery: '', httpMethod: 'GET', resourcePath: '/bench', path: '/prod/bench', pathParameters: {}, stageVariables: {},
    identity: { sourceIp: '127.0.0.1' }, requestTimeEpoch: Date.now(), secureTransport: false, authorizer: {}, extensions: {},
  }) as unknown as RequestContext;

async function measure(name: string, fn: StageFn, baseline: number): Promise<number> {
  const first = await fn(context());
  if (first !== undefined) throw new Error(`${name}: ${first.type}`);
  const n = 200_000;
  for (let i = 0; i < 20_000; i++) fn(context());
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const r = fn(context());
    if (r !== undefined) throw new Error(`${name}: the hot path is not synchronous or was refused`);
  }
  const used = process.cpuUsage(t0);
  const ns = ((used.user + used.system) * 1000) / n - baseline;
  console.log(`${name.padEnd(48)}${ns.toFixed(0).padStart(7)} ns per request`);
  return ns;
}

// The cost of building the request context alone, subtracted from each figure.
const t0 = process.cpuUsage();
for (let i = 0; i < 200_000; i++) context();
const c = process.cpuUsage(t0);
const baseline = ((c.user + c.system) * 1000) / 200_000;

await measure('JWT RS256, verified-token cache hit', stageFor({ type: 'jwt', issuer: ISSUER, audiences: ['bench'], jwksUrl: `${base}/jwks` }, jwtAuthStage), baseline);
await measure('custom TOKEN authorizer, result cache hit', stageFor({ type: 'token', url: `${base}/authorize` }, customAuthStage), baseline);
server.close();
