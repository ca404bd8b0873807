// kill -9. In-process counters: a gateway killed with SIGKILL (no drain, no final flush) loses at most the
// usage of its last second; requests whose usage was flushed (once a second) still count against the quota
// after a restart on the same SQLite store, and GetUsage shows them. Redis counters: nothing is lost, the
// node started after the kill continues the quota at once, without waiting for any flush, and GetUsage shows
// every request the killed node accepted (the usage records were counted in Redis with each decision).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ADMIN_TOKEN, eventually, request } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';

const definition = {
  apis: [{ name: 'pets', stages: { prod: {} }, routes: [{ method: 'GET', path: '/pets', apiKeyRequired: true, integration: { type: 'mock' } }] }],
  usagePlans: [{ name: 'gold', apiStages: [{ api: 'pets', stage: 'prod' }], quota: { limit: 10, period: 'MONTH' } }],
};
const nodes: GatewayProcess[] = [];
let dir = '';
after(async () => {
  for (const n of nodes) await n.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('kill -9 then restart: the flushed usage survives and the quota continues from it', async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-kill9-'));
  const config = join(dir, 'definition.yaml');
  await writeFile(config, stringify(definition));
  const start = async () => {
    const n = await startGatewayProcess({ config, dataDir: join(dir, 'node'), logLevel: 'warn' });
    nodes.push(n);
    return n;
  };
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const first = await start();
  const created = await request(first.adminUrl, '/v1/api-keys', {
    method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'k', plans: ['gold'] }),
  });
  assert.equal(created.status, 201, created.body);
  const { key, value } = JSON.parse(created.body) as { key: { id: string }; value: string };
  const call = (n: GatewayProcess) => request(n.url, '/prod/pets', { headers: { 'x-api-key': value } });
  for (let i = 0; i < 7; i++) assert.equal((await call(first)).status, 200);
  const today = new Date().toISOString().slice(0, 10);
  const usage = async (n: GatewayProcess) => {
    const r = await request(n.adminUrl, `/v1/usage-plans/gold/usage?startDate=${today}&endDate=${today}&keyId=${key.id}`, { headers: auth });
    return (JSON.parse(r.body) as { values: Record<string, number[][]> }).values[key.id]?.[0]?.[0];
  };
  // The flush runs every second: wait for it (bounded), then kill without any chance to flush again.
  await eventually(async () => (await usage(first)) === 7, 10_000);
  await first.kill('SIGKILL');
  assert.equal(first.proc.signalCode, 'SIGKILL');

  const second = await start();
  assert.equal(await usage(second), 7, 'usage records survive');
  for (let i = 0; i < 3; i++) assert.equal((await call(second)).status, 200, `request ${8 + i} of 10`);
  const r = await call(second);
  assert.equal(r.status, 429, '7 before the kill + 3 after = the quota of 10');
  assert.deepEqual(JSON.parse(r.body), { message: 'Limit Exceeded' });
});

test('Redis counters: a gateway killed with -9 right after its requests loses no quota count', async () => {
  const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `pc_kill9_${randomBytes(4).toString('hex')}:`;
  const base = await mkdtemp(join(tmpdir(), 'portcullis-kill9-redis-'));
  const config = join(base, 'definition.yaml');
  await writeFile(config, stringify(definition));
  const env = { PORTCULLIS_COUNTERS_PREFIX: prefix, PORTCULLIS_COUNTERS_TIMEOUT_MS: '5000' };
  const start = async () => {
    const n = await startGatewayProcess({ config, dataDir: join(base, 'node'), counters: REDIS_URL, logLevel: 'warn', env });
    nodes.push(n);
    return n;
  };
  try {
    const first = await start();
    const created = await request(first.adminUrl, '/v1/api-keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'k', plans: ['gold'] }),
    });
    const { key, value } = JSON.parse(created.body) as { key: { id: string }; value: string };
    const call = (n: GatewayProcess) => request(n.url, '/prod/pets', { headers: { 'x-api-key': value } });
    for (let i = 0; i < 7; i++) assert.equal((await call(first)).status, 200);
    // No waiting for a flush: the counts are in Redis as soon as each request was decided.
    await first.kill('SIGKILL');
    const second = await start();
    const today = new Date().toISOString().slice(0, 10);
    const usage = async () => {
      const u = await request(second.adminUrl, `/v1/usage-plans/gold/usage?startDate=${today}&endDate=${today}&keyId=${key.id}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      return (JSON.parse(u.body) as { values: Record<string, number[][]> }).values[key.id]?.[0];
    };
    // The killed node held the lease for copying usage to the store: the new node takes it over within seconds.
    await eventually(async () => (await usage())?.[0] === 7, 15_000);
    assert.deepEqual(await usage(), [7, 3], 'usage records: the 7 requests of the killed node, 3 of 10 left');
    for (let i = 0; i < 3; i++) assert.equal((await call(second)).status, 200, `request ${8 + i} of 10`);
    const r = await call(second);
    assert.equal(r.status, 429, '7 before the kill + 3 after = the quota of 10');
    assert.deepEqual(JSON.parse(r.body), { message: 'Limit Exceeded' });
    // GetUsage copies what changed before it answers (this node holds the lease now): no waiting.
    assert.deepEqual(await usage(), [10, 0]);
  } finally {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await rm(base, { recursive: true, force: true });
  }
});
