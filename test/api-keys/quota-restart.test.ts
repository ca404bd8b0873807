// Quotas survive a restart with in-process counters: usage is flushed to the store every second and a new
// node rebuilds its quota counts from it (the first node is left running, as after a kill -9 it never closes).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const definition = {
  apis: [{ name: 'pets', stages: { prod: {} }, routes: [{ method: 'GET', path: '/pets', apiKeyRequired: true, integration: { type: 'mock' } }] }],
  usagePlans: [{ name: 'gold', apiStages: [{ api: 'pets', stage: 'prod' }], quota: { limit: 5, period: 'MONTH' } }],
};
const gateways: TestGateway[] = [];
let dir = '';
after(async () => {
  for (const g of gateways) await g.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a new node on the same store continues the quota where the first one left it', async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-quota-restart-'));
  const storage = `sqlite:${join(dir, 'store.db')}`;
  const first = await startTestGateway(definition, { storage });
  gateways.push(first);
  const created = await request(first.adminUrl, '/v1/api-keys', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'k', plans: ['gold'] }),
  });
  const { key, value } = JSON.parse(created.body) as { key: { id: string }; value: string };
  const call = (g: TestGateway) => request(g.url, '/prod/pets', { headers: { 'x-api-key': value } });
  for (let i = 0; i < 3; i++) assert.equal((await call(first)).status, 200);
  const month = new Date().toISOString().slice(0, 7);
  const today = new Date().toISOString().slice(0, 10);
  // The flush happens within a second.
  await eventually(async () => {
    const u = await request(first.adminUrl, `/v1/usage-plans/gold/usage?startDate=${today}&endDate=${today}&keyId=${key.id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return JSON.parse(u.body).values[key.id]?.[0]?.[0] === 3;
  }, 5000);
  const second = await startTestGateway(definition, { storage });
  gateways.push(second);
  assert.equal((await call(second)).status, 200);
  assert.equal((await call(second)).status, 200);
  const r = await call(second);
  assert.equal(r.status, 429, `month ${month}: 3 before the restart + 2 after = 5`);
  assert.deepEqual(JSON.parse(r.body), { message: 'Limit Exceeded' });
});
