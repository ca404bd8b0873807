// End-to-end API keys and usage plans through a real gateway (SQLite store, in-process counters, fake clock):
// key checks and their 403s, plan throttle and quota with Retry-After and RateLimit headers, report-only
// plans, rotation grace, disable/delete/unsubscribe taking effect, GetUsage/UpdateUsage, and CSV import.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../../src/core/clock.ts';
import { ADMIN_TOKEN, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const START = Date.UTC(2026, 10, 24, 12, 0, 0);
const clock = createFakeClock(START);

const definition = {
  apis: [
    {
      name: 'pets',
      stages: { prod: {}, beta: {} },
      routes: [
        { method: 'GET', path: '/pets', apiKeyRequired: true, integration: { type: 'mock', body: { ok: true } } },
        { method: 'POST', path: '/pets', apiKeyRequired: true, integration: { type: 'mock', body: { posted: true } } },
        { method: 'GET', path: '/open', integration: { type: 'mock', body: { open: true } } },
      ],
    },
  ],
  usagePlans: [
    {
      name: 'gold',
      apiStages: [{ api: 'pets', stage: 'prod', throttle: { '/pets/POST': { rateLimit: 1, burstLimit: 1 } } }],
      throttle: { rateLimit: 100, burstLimit: 100 },
      quota: { limit: 5, period: 'DAY' },
    },
    { name: 'silver', apiStages: [{ api: 'pets', stage: 'prod' }], throttle: { rateLimit: 1, burstLimit: 2 } },
    { name: 'shadow', apiStages: [{ api: 'pets', stage: 'beta' }], throttle: { rateLimit: 1, burstLimit: 1 }, quota: { limit: 1, period: 'DAY' }, reportOnly: true },
  ],
};

let gw: TestGateway;
const admin = async (method: string, path: string, body?: unknown, contentType = 'application/json') => {
  const res = await request(gw.adminUrl, path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: res.headers['content-type']?.includes('json') ? JSON.parse(res.body) : res.body, headers: res.headers };
};
const call = (path: string, key?: string, method = 'GET') => request(gw.url, path, { method, headers: key ? { 'x-api-key': key } : {} });
const newKey = async (body: Record<string, unknown>) => {
  const r = await admin('POST', '/v1/api-keys', body);
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json as { key: { id: string; hint: string }; value: string };
};

before(async () => {
  gw = await startTestGateway(definition, { clock });
});
after(() => gw?.close());

describe('API keys on the request path', () => {
  test('missing, malformed, unknown, unsubscribed keys get 403 Forbidden; the key is ignored without apiKeyRequired', async () => {
    for (const key of [undefined, 'short', 'pck_' + 'A'.repeat(38), 'A'.repeat(40)]) {
      const r = await call('/prod/pets', key);
      assert.equal(r.status, 403, String(key));
      assert.deepEqual(JSON.parse(r.body), { message: 'Forbidden' });
      assert.equal(r.headers['x-amzn-errortype'], 'ForbiddenException');
    }
    const lonely = await newKey({ name: 'no-plan' });
    assert.equal((await call('/prod/pets', lonely.value)).status, 403);
    assert.equal((await call('/prod/open')).status, 200);
    assert.equal((await call('/prod/open', 'garbage')).status, 200);
  });

  test('a subscribed key passes; the value is never stored or logged, the log has its id and hash prefix', async () => {
    const { key, value } = await newKey({ name: 'alice', plans: ['silver'], customerId: 'cust-1', tags: { team: 'a' } });
    assert.match(value, /^pck_[0-9A-Za-z]{38}$/);
    assert.equal(key.hint, value.slice(0, 8));
    const r = await call('/prod/pets', value);
    assert.equal(r.status, 200, r.body);
    const shown = await admin('GET', `/v1/api-keys/${key.id}`);
    assert.equal(JSON.stringify(shown.json).includes(value), false);
    assert.equal(JSON.stringify(shown.json).includes('hash'), false);
    await eventually(() => gw.logLines.some((l) => l.includes(key.id)));
    assert.equal(gw.logLines.some((l) => l.includes(value)), false);
    // The default JSON access log names the key by id and by a short prefix of its keyed hash.
    const record = JSON.parse(gw.logLines.find((l) => l.includes(`"apiKeyId":"${key.id}"`))!) as Record<string, string>;
    assert.match(record.apiKeyHash, /^[0-9a-f]{12}$/);
    assert.equal(value.includes(record.apiKeyHash), false);
  });

  test('plan throttle per key: 429 Too Many Requests with Retry-After and RateLimit headers, refills with time', async () => {
    const { value } = await newKey({ name: 'throttled', plans: ['silver'] });
    assert.equal((await call('/prod/pets', value)).status, 200);
    const ok = await call('/prod/pets', value);
    assert.equal(ok.status, 200);
    assert.match(String(ok.headers['ratelimit-policy']), /"burst";q=2;w=2/);
    const r = await call('/prod/pets', value);
    assert.equal(r.status, 429);
    assert.deepEqual(JSON.parse(r.body), { message: 'Too Many Requests' });
    assert.equal(r.headers['retry-after'], '1');
    assert.match(String(r.headers.ratelimit), /"burst";r=0/);
    clock.advance(1000);
    assert.equal((await call('/prod/pets', value)).status, 200);
  });

  test('quota: Limit Exceeded after the limit, per-method override, reset at the next UTC day; usage recorded', async () => {
    const { key, value } = await newKey({ name: 'quota', plans: ['gold'] });
    // The POST override (1 rps, burst 1) is a bucket of its own.
    assert.equal((await call('/prod/pets', value, 'POST')).status, 200);
    assert.equal((await call('/prod/pets', value, 'POST')).status, 429);
    for (let i = 0; i < 4; i++) assert.equal((await call('/prod/pets', value)).status, 200);
    const r = await call('/prod/pets', value);
    assert.equal(r.status, 429);
    assert.deepEqual(JSON.parse(r.body), { message: 'Limit Exceeded' });
    assert.equal(r.headers['x-amzn-errortype'], 'LimitExceededException');
    const toMidnight = String(Math.ceil((Date.UTC(2026, 10, 25) - clock.now()) / 1000));
    assert.equal(r.headers['retry-after'], toMidnight);
    assert.match(String(r.headers.ratelimit), new RegExp(`"quota";r=0;t=${toMidnight}`));

    // Usage is flushed to the store every second.
    await eventually(async () => {
      const u = await admin('GET', `/v1/usage-plans/gold/usage?startDate=2026-11-23&endDate=2026-11-24&keyId=${key.id}`);
      return u.json.values?.[key.id]?.[1]?.[0] === 5 ? u : undefined;
    });
    const u = await admin('GET', `/v1/usage-plans/gold/usage?startDate=2026-11-23&endDate=2026-11-24&keyId=${key.id}`);
    assert.deepEqual(u.json, { usagePlanId: 'gold', startDate: '2026-11-23', endDate: '2026-11-24', position: null, values: { [key.id]: [[0, 5], [5, 0]] } });

    // UpdateUsage: give three requests back.
    const up = await admin('POST', `/v1/usage-plans/gold/keys/${key.id}/usage`, { remaining: 3 });
    assert.equal(up.status, 200, JSON.stringify(up.json));
    assert.deepEqual(up.json.values[key.id], [[5, 3]]);
    for (let i = 0; i < 3; i++) assert.equal((await call('/prod/pets', value)).status, 200);
    assert.equal((await call('/prod/pets', value)).status, 429);

    clock.set(Date.UTC(2026, 10, 25, 0, 0, 1));
    assert.equal((await call('/prod/pets', value)).status, 200);
    // UpdateUsage also takes quota away: 4 left in the new day, lowered to 1.
    const down = await admin('POST', `/v1/usage-plans/gold/keys/${key.id}/usage`, { remaining: 1 });
    assert.equal(down.status, 200, JSON.stringify(down.json));
    assert.equal((await call('/prod/pets', value)).status, 200);
    assert.equal((await call('/prod/pets', value)).status, 429);
    clock.set(START);
  });

  test('report-only plans count and log but never refuse', async () => {
    const { value } = await newKey({ name: 'shadowed', plans: ['shadow'] });
    for (let i = 0; i < 5; i++) assert.equal((await call('/beta/pets', value)).status, 200);
  });

  test('one plan per API stage: a second plan for prod is refused with a clear error', async () => {
    const { key } = await newKey({ name: 'two', plans: ['silver'] });
    const r = await admin('POST', '/v1/usage-plans/gold/keys', { keyId: key.id });
    assert.equal(r.status, 409);
    assert.match(r.json.error.message, /both cover API stage pets\/prod/);
    const both = await admin('POST', '/v1/api-keys', { name: 'x', plans: ['silver', 'gold'] });
    assert.equal(both.status, 409);
    assert.equal((await admin('POST', '/v1/usage-plans/shadow/keys', { keyId: key.id })).status, 201);
    assert.equal((await admin('POST', '/v1/usage-plans/nope/keys', { keyId: key.id })).status, 404);

    // A deploy that would give the key two plans on one stage (shadow now covering prod too) is refused, the key
    // named, and the running revision keeps serving.
    const before = (await admin('GET', '/v1/deployments/current')).json;
    const overlapping = {
      ...definition,
      usagePlans: definition.usagePlans.map((p) => (p.name === 'shadow' ? { ...p, apiStages: [...p.apiStages, { api: 'pets', stage: 'prod' }] } : p)),
    };
    const refused = await admin('POST', '/v1/deployments', overlapping);
    assert.equal(refused.status, 400, JSON.stringify(refused.json));
    assert.deepEqual(refused.json.problems.map((p: { path: string }) => p.path), ['usagePlans[2].apiStages']);
    assert.match(refused.json.problems[0].message, new RegExp(`plans "silver" and "shadow" would both cover API stage pets/prod, and key ${key.id} is subscribed to both`));
    assert.deepEqual((await admin('GET', '/v1/deployments/current')).json, before, 'nothing was deployed');
    // Once the key leaves one of the plans, the same definition deploys.
    assert.equal((await admin('DELETE', `/v1/usage-plans/shadow/keys/${key.id}`)).status, 200);
    assert.equal((await admin('POST', '/v1/deployments', overlapping)).status, 201);
    assert.equal((await admin('POST', '/v1/deployments', definition)).status, 201);
  });

  test('disable, enable, expire, unsubscribe, delete: each takes effect at once, with AWS\'s 403 Forbidden', async () => {
    const { key, value } = await newKey({ name: 'life', plans: ['gold'], expiresAt: new Date(START + 60_000).toISOString() });
    /** The whole refusal, as AWS sends it for a key it does not accept. */
    const forbidden = async (what: string) => {
      const r = await call('/prod/pets', value);
      assert.equal(r.status, 403, what);
      assert.deepEqual(JSON.parse(r.body), { message: 'Forbidden' }, what);
      assert.equal(r.headers['x-amzn-errortype'], 'ForbiddenException', what);
    };
    assert.equal((await call('/prod/pets', value)).status, 200);
    assert.equal((await admin('POST', `/v1/api-keys/${key.id}`, { enabled: false })).status, 200);
    await eventually(async () => (await call('/prod/pets', value)).status === 403);
    await forbidden('disabled');
    await admin('POST', `/v1/api-keys/${key.id}`, { enabled: true });
    await eventually(async () => (await call('/prod/pets', value)).status === 200);
    clock.advance(60_000);
    await forbidden('expired');
    clock.set(START);
    assert.equal((await admin('DELETE', `/v1/usage-plans/gold/keys/${key.id}`)).status, 200);
    await eventually(async () => (await call('/prod/pets', value)).status === 403);
    await forbidden('unsubscribed');
    await admin('POST', '/v1/usage-plans/gold/keys', { keyId: key.id });
    await eventually(async () => (await call('/prod/pets', value)).status === 200);
    assert.equal((await admin('DELETE', `/v1/api-keys/${key.id}`)).status, 200);
    await eventually(async () => (await call('/prod/pets', value)).status === 403);
    await forbidden('deleted');
    assert.equal((await admin('GET', `/v1/api-keys/${key.id}`)).status, 404);
  });

  test('rotation: the old value works until the grace period ends, the new one at once', async () => {
    const { key, value: oldValue } = await newKey({ name: 'rot', plans: ['silver'] });
    const r = await admin('POST', `/v1/api-keys/${key.id}/rotate`, { graceSeconds: 30 });
    assert.equal(r.status, 200);
    const newValue = r.json.value as string;
    assert.notEqual(newValue, oldValue);
    await eventually(async () => (await call('/prod/pets', newValue)).status === 200);
    assert.equal((await call('/prod/pets', oldValue)).status, 200);
    clock.advance(30_000);
    assert.equal((await call('/prod/pets', oldValue)).status, 403);
    clock.set(START);
  });

  test('imported values (AWS format) work; CSV import is all or nothing with problems by row; export has no values', async () => {
    const imported = await newKey({ name: 'imp', value: 'abcdefghij0123456789XYZ', plans: ['silver'] });
    assert.equal((await call('/prod/pets', 'abcdefghij0123456789XYZ')).status, 200);
    assert.equal(imported.value, 'abcdefghij0123456789XYZ');
    assert.equal(imported.key.hint, 'abcd', 'the store keeps 4 characters of an imported value as its hint, no more');
    const bad = await admin('POST', '/v1/api-keys', { name: 'bad', value: 'has-dash-1234567890123' });
    assert.equal(bad.status, 400);

    const broken = 'name,KEY,Enabled,UsagePlanIds\nk1,csvvalue000000000000000001,true,silver\nk2,short,true,\nk3,csvvalue000000000000000001,TRUE,\nk4,"csvvalue000000000000000004,true,\nk5,csvvalue000000000000000005,maybe,nope\n';
    const r = await admin('POST', '/v1/api-keys/import', broken, 'text/csv');
    assert.equal(r.status, 400);
    const rows = (r.json.problems as { row: number; message: string }[]).map((p) => p.row);
    assert.deepEqual([...new Set(rows)], [3, 4, 5, 6].filter((n) => rows.includes(n)));
    assert.ok(rows.includes(3) && rows.includes(4) && rows.includes(5), JSON.stringify(r.json.problems));
    assert.equal((await call('/prod/pets', 'csvvalue000000000000000001')).status, 403, 'nothing half-applied');

    const good = 'Name,Key,Description,Enabled,UsagePlanIds\nk1,csvvalue000000000000000001,"first, key",tRuE,"silver,shadow"\nk2,csvvalue000000000000000002,,false,\n';
    const ok = await admin('POST', '/v1/api-keys/import', good, 'text/csv');
    assert.deepEqual(ok.json, { created: 2, updated: 0 });
    await eventually(async () => (await call('/prod/pets', 'csvvalue000000000000000001')).status === 200);
    assert.equal((await call('/prod/pets', 'csvvalue000000000000000002')).status, 403);
    const again = await admin('POST', '/v1/api-keys/import', good.replace('tRuE', 'false'), 'text/csv');
    assert.deepEqual(again.json, { created: 0, updated: 2 });
    await eventually(async () => (await call('/prod/pets', 'csvvalue000000000000000001')).status === 403);
    const exported = await admin('GET', '/v1/api-keys/export');
    assert.equal(exported.status, 200);
    assert.match(exported.json as string, /^Id,Name,Description,Enabled,UsagePlanIds/);
    assert.match(exported.json as string, /"first, key"/);
    assert.equal((exported.json as string).includes('csvvalue000000000000000001'), false);
  });
});
