// Two gateway nodes sharing the real PostgreSQL on this machine (a throwaway schema) converge on every
// deploy and rollback made through either node's admin API: switching stores is one setting.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { stringify } from 'yaml';
import { ADMIN_TOKEN, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const PG_URL = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const def = (body: string) => ({
  apis: [{ name: 'c', stages: { prod: {} }, routes: [{ method: 'GET', path: '/v', integration: { type: 'mock', body } }] }],
});

describe('cluster on PostgreSQL', () => {
  const schema = `pc_test_cluster_${randomBytes(4).toString('hex')}`;
  let a: TestGateway;
  let b: TestGateway;

  before(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect().catch((err) => {
      throw new Error(`PostgreSQL is required for this test at ${PG_URL}: ${err.message}`);
    });
    await client.end();
    const storage = `${PG_URL}?schema=${schema}`;
    a = await startTestGateway(def('one'), { storage });
    b = await startTestGateway(def('one'), { storage });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
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
