// A Redis outage seen from real gateways: the test starts its own redis-server on its own port, kills it and
// starts it again. Node A (its own process, quotas configured to fail closed) and node B (in-process,
// defaults) keep serving by their declared policy: throttles fail open, quotas fail closed on A and open on B;
// A logs the outage once, exposes it as a metric and on /readyz, and reconnects by itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ADMIN_TOKEN, TEST_MASTER_KEY, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server.ts';

const definition = {
  apis: [{ name: 'pets', stages: { prod: {} }, routes: [{ method: 'GET', path: '/pets', apiKeyRequired: true, integration: { type: 'mock', body: { ok: true } } }] }],
  usagePlans: [
    // Never refills: without the store's answer the third request would be refused.
    { name: 'tight', apiStages: [{ api: 'pets', stage: 'prod' }], throttle: { rateLimit: 0, burstLimit: 2 } },
    { name: 'metered', apiStages: [{ api: 'pets', stage: 'prod' }], quota: { limit: 3, period: 'DAY' } },
  ],
};

let redis: OwnRedis;
let dir = '';
let a: GatewayProcess;
let b: TestGateway;

const adminCall = async (adminUrl: string, method: string, path: string, body?: unknown) => {
  const res = await request(adminUrl, path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: res.body };
};
const newKey = async (adminUrl: string, plan: string): Promise<string> => {
  const r = await adminCall(adminUrl, 'POST', '/v1/api-keys', { name: `${plan}-${randomBytes(3).toString('hex')}`, plans: [plan] });
  assert.equal(r.status, 201, r.body);
  return (JSON.parse(r.body) as { value: string }).value;
};
const call = (url: string, key: string) => request(url, '/prod/pets', { headers: { 'x-api-key': key } });
const metric = async (adminUrl: string, name: string): Promise<number> => {
  const r = await adminCall(adminUrl, 'GET', '/metrics');
  const m = new RegExp(`^${name}\\{store="redis"\\} (\\S+)$`, 'm').exec(r.body);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
};
const outageLines = () => a.logs().filter((l) => String(l.msg).startsWith('counter store unreachable'));
const recoveryLines = () => a.logs().filter((l) => l.msg === 'counter store reachable again');

before(async () => {
  redis = await startOwnRedis();
  dir = await mkdtemp(join(tmpdir(), 'portcullis-redis-outage-'));
  const config = join(dir, 'definition.yaml');
  await writeFile(config, stringify(definition));
  const prefix = `pc_outage_${randomBytes(4).toString('hex')}`;
  a = await startGatewayProcess({
    config, dataDir: join(dir, 'a'), counters: redis.url,
    env: { PORTCULLIS_COUNTERS_PREFIX: `${prefix}_a:`, PORTCULLIS_COUNTERS_QUOTA_FAIL_MODE: 'closed' },
  });
  b = await startTestGateway(definition, {
    counters: redis.url,
    env: { PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN, PORTCULLIS_LOG_LEVEL: 'silent', PORTCULLIS_MASTER_KEY: TEST_MASTER_KEY, PORTCULLIS_COUNTERS_PREFIX: `${prefix}_b:` },
  });
});

after(async () => {
  await a?.kill('SIGTERM');
  await b?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('Redis down: throttles fail open, quotas fail closed (A) or open (B) as configured; logged once, a metric, reconnects', async () => {
  const tightA = await newKey(a.adminUrl, 'tight');
  const meteredA = await newKey(a.adminUrl, 'metered');
  const meteredB = await newKey(b.adminUrl, 'metered');

  // Healthy: the store decides.
  assert.equal(await metric(a.adminUrl, 'portcullis_counters_up'), 1);
  assert.equal(await metric(a.adminUrl, 'portcullis_counters_degraded_decisions_total'), 0);
  for (let i = 0; i < 2; i++) assert.equal((await call(a.url, tightA)).status, 200);
  const refused = await call(a.url, tightA);
  assert.equal(refused.status, 429);
  assert.deepEqual(JSON.parse(refused.body), { message: 'Too Many Requests' });
  assert.equal(refused.headers['retry-after'], '86400', 'a bucket that never refills');

  await redis.stop();

  // Down: 20 requests per key; the tight key passes (throttles fail open), the fresh metered key is refused
  // on A (quota fail mode closed, a short Retry-After) and passes on B (default: open).
  for (let i = 0; i < 20; i++) {
    const t = await call(a.url, tightA);
    assert.equal(t.status, 200, `throttle fails open: ${t.body}`);
    const q = await call(a.url, meteredA);
    assert.equal(q.status, 429);
    assert.deepEqual(JSON.parse(q.body), { message: 'Limit Exceeded' });
    assert.equal(q.headers['x-amzn-errortype'], 'LimitExceededException');
    assert.equal(q.headers['retry-after'], '1');
    assert.equal((await call(b.url, meteredB)).status, 200, 'quota fails open on B');
  }
  assert.equal(await metric(a.adminUrl, 'portcullis_counters_up'), 0);
  assert.ok((await metric(a.adminUrl, 'portcullis_counters_degraded_decisions_total')) >= 40);
  const ready = await adminCall(a.adminUrl, 'GET', '/readyz');
  assert.match(ready.body, /unreachable \(throttles fail open, quotas fail closed\)/);
  await eventually(() => outageLines().length > 0);
  assert.equal(outageLines().length, 1, `one log line for the outage, not one per request: ${JSON.stringify(outageLines())}`);
  assert.equal(outageLines()[0].level, 'error');
  assert.match(String(outageLines()[0].msg), /throttles fail open, quotas fail closed/);

  await redis.start();

  // The gateways reconnect by themselves; decisions come from the (new, empty) store again.
  await eventually(async () => (await metric(a.adminUrl, 'portcullis_counters_up')) === 1, 15_000);
  await eventually(() => recoveryLines().length === 1, 5_000);
  await eventually(async () => (await call(b.url, meteredB)).status === 200, 15_000);
  for (let i = 0; i < 2; i++) assert.equal((await call(a.url, tightA)).status, 200);
  assert.equal((await call(a.url, tightA)).status, 429, 'the throttle decides again');
  for (let i = 0; i < 3; i++) assert.equal((await call(a.url, meteredA)).status, 200, 'the quota counts again');
  const exhausted = await call(a.url, meteredA);
  assert.equal(exhausted.status, 429);
  assert.ok(Number(exhausted.headers['retry-after']) > 1, 'a real exhaustion waits for the next period');
  assert.equal(outageLines().length, 1);
});
