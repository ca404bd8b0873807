// Two gateway nodes on the real PostgreSQL (a throwaway schema, one shared master key): a principal, policy and
// access key created through node A's admin API sign requests node B accepts; a key deactivated through node B
// is refused by node A; the secret is stored sealed, never in clear, in the shared database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import pg from 'pg';
import { ADMIN_TOKEN, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createTestSchema, PG_URL, type TestSchema } from '../helpers/pg-schema.ts';

const def = {
  apis: [{ name: 'c', stages: { prod: {} }, routes: [{ method: 'GET', path: '/v', auth: 'iam', integration: { type: 'mock', body: { ok: true } } }] }],
};

async function admin(node: TestGateway, method: string, path: string, body?: unknown) {
  const r = await request(node.adminUrl, path, {
    method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: JSON.parse(r.body) };
}

async function signedGet(node: TestGateway, accessKeyId: string, secretAccessKey: string) {
  const host = `127.0.0.1:${node.port}`;
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region: 'us-east-1', service: 'execute-api', sha256: Sha256 });
  const s = (await signer.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: node.port, path: '/prod/v', headers: { host } }))) as HttpRequest;
  return request(node.url, '/prod/v', { headers: s.headers });
}

describe('IAM on a PostgreSQL cluster', () => {
  let schema: TestSchema;
  let a: TestGateway;
  let b: TestGateway;

  before(async () => {
    schema = await createTestSchema('iam');
    const { storage } = schema;
    a = await startTestGateway(def, { storage });
    b = await startTestGateway(def, { storage });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await schema?.drop();
  });

  test('an access key created on node A signs requests node B accepts; deactivated on node B, node A refuses it', async () => {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] };
    assert.equal((await admin(a, 'POST', '/v1/iam/policies', { name: 'all', document: policy })).status, 201);
    const p = await admin(a, 'POST', '/v1/iam/principals', { type: 'user', name: 'dora', policies: ['all'] });
    assert.equal(p.status, 201, JSON.stringify(p.json));
    const k = await admin(a, 'POST', `/v1/iam/principals/${p.json.principal.id}/access-keys`);
    assert.equal(k.status, 201, JSON.stringify(k.json));
    const { accessKeyId, secretAccessKey } = k.json.accessKey as { accessKeyId: string; secretAccessKey: string };
    // Node B learns of the key through LISTEN/NOTIFY (or its 1 s version poll); no timing is asserted here.
    await eventually(async () => (await signedGet(b, accessKeyId, secretAccessKey)).status === 200, 10_000);
    assert.equal((await signedGet(a, accessKeyId, secretAccessKey)).status, 200);

    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const dump = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema.name]);
      for (const { table_name } of dump.rows as { table_name: string }[]) {
        const all = await client.query(`SELECT * FROM "${schema.name}"."${table_name}"`);
        assert.equal(JSON.stringify(all.rows).includes(secretAccessKey), false, `the secret is not in clear in ${table_name}`);
      }
    } finally {
      await client.end();
    }

    assert.equal((await admin(b, 'POST', `/v1/iam/access-keys/${accessKeyId}`, { status: 'inactive' })).status, 200);
    await eventually(async () => (await signedGet(a, accessKeyId, secretAccessKey)).status === 403, 10_000);
    const r = await signedGet(a, accessKeyId, secretAccessKey);
    assert.deepEqual(JSON.parse(r.body), { message: 'The security token included in the request is invalid.' });
  });
});
