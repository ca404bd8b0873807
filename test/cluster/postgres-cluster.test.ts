// Two gateway nodes sharing the real PostgreSQL on this machine (a throwaway schema) converge on every
// deploy and rollback made through either node's admin API: switching stores is one setting.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { ADMIN_TOKEN, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createTestSchema, type TestSchema } from '../helpers/pg-schema.ts';

const def = (body: string) => ({
  apis: [{ name: 'c', stages: { prod: {} }, routes: [{ method: 'GET', path: '/v', integration: { type: 'mock', body } }] }],
});

describe('cluster on PostgreSQL', () => {
  let schema: TestSchema;
  let a: TestGateway;
  let b: TestGateway;

  before(async () => {
    schema = await createTestSchema('cluster');
    const { storage } = schema;
    a = await startTestGateway(def('one'), { storage });
    b = await startTestGateway(def('one'), { storage });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await schema?.drop();
  });

  test('both nodes serve the same revision from the shared store', async () => {
    assert.equal((await request(a.url, '/prod/v')).body, 'one');
    assert.equal((await request(b.url, '/prod/v')).body, 'one');
  });

  test('a deploy through node A reaches node B', async () => {
    const res = await request(a.adminUrl, '/v1/deployments', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
      body: stringify(def('two')),
    });
    assert.equal(res.status, 201, res.body);
    await eventually(async () => (await request(b.url, '/prod/v')).body === 'two', 10_000);
  });

  test('a rollback through node B reaches node A', async () => {
    const res = await request(b.adminUrl, '/v1/revisions/1/deploy', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.ok(res.status < 300, res.body);
    await eventually(async () => (await request(a.url, '/prod/v')).body === 'one', 10_000);
    const revs = JSON.parse((await request(a.adminUrl, '/v1/revisions', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body);
    assert.equal((revs.revisions ?? revs).length, 2);
  });
});
