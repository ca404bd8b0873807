// Alarms defined through the admin API on a cluster: two nodes sharing the real PostgreSQL (a throwaway schema);
// an alarm put through node A is evaluated by node B, a delete through B reaches A, and both nodes' audit events
// form one verifiable chain.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.ts';

const def = { apis: [{ name: 'c', stages: { prod: {} }, routes: [{ method: 'GET', path: '/v', integration: { type: 'mock', body: 'x' } }] }] };

const admin = async (base: string, method: string, path: string, body?: unknown) => {
  const res = await request(base, path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: JSON.parse(res.body) };
};
const names = async (g: TestGateway) => ((await admin(g.adminUrl, 'GET', '/v1/alarms')).json.alarms as Array<{ name: string }>).map((a) => a.name);

describe('runtime alarms on PostgreSQL', () => {
  let schema: TestSchema;
  let a: TestGateway;
  let b: TestGateway;

  before(async () => {
    schema = await createTestSchema('alarms');
    const { storage } = schema;
    a = await startTestGateway(def, { storage });
    b = await startTestGateway(def, { storage });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await schema?.drop();
  });

  test('an alarm put through node A is evaluated by node B; a delete through B reaches A', async () => {
    const put = await admin(a.adminUrl, 'POST', '/v1/alarms', { name: 'c-errors', metric: '5XXError', per: 'api', threshold: 5 });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.deepEqual(await names(a), ['c-errors']);
    await eventually(async () => (await names(b)).includes('c-errors'), 10_000);
    const onB = (await admin(b.adminUrl, 'GET', '/v1/alarms')).json.alarms[0];
    assert.equal(onB.state, 'INSUFFICIENT_DATA');
    assert.deepEqual(onB.series.map((s: { dimension: string }) => s.dimension), ['c']);

    assert.equal((await admin(b.adminUrl, 'DELETE', '/v1/alarms/c-errors')).status, 200);
    await eventually(async () => (await names(a)).length === 0, 10_000);
  });

  test('both nodes audited into one chain that verifies', async () => {
    const events = (await admin(a.adminUrl, 'GET', '/v1/audit/events?event=PutMetricAlarm')).json.events;
    assert.equal(events.length, 1);
    const deletes = (await admin(a.adminUrl, 'GET', '/v1/audit/events?event=DeleteAlarms')).json.events;
    assert.equal(deletes.length, 1);
    const verify = await admin(b.adminUrl, 'GET', '/v1/audit/verify');
    assert.equal(verify.json.problems.filter((p: { kind: string }) => !p.kind.startsWith('digest-unknown-key')).length, 0, JSON.stringify(verify.json.problems));
  });
});
