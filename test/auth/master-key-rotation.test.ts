// Rotating the master key that seals access-key secrets, as docs/authentication.md describes it, on real
// nodes sharing one SQLite data directory: old secrets open with PORTCULLIS_MASTER_KEY_PREVIOUS, `reseal`
// re-encrypts them, and afterwards the new key alone suffices; a node with an unrelated key refuses the key.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ADMIN_TOKEN, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64');
const K3 = Buffer.alloc(32, 3).toString('base64');
const def = { apis: [{ name: 'm', stages: { prod: {} }, routes: [{ method: 'GET', path: '/v', auth: 'iam', integration: { type: 'mock', body: { ok: true } } }] }] };
const dirs: string[] = [];

async function node(dataDir: string | undefined, env: Record<string, string>): Promise<TestGateway> {
  const gw = await startTestGateway(def, {
    ...(dataDir ? { dataDir } : {}),
    env: { PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN, PORTCULLIS_LOG_LEVEL: 'silent', ...env },
  });
  dirs.push(gw.dir);
  return gw;
}

async function admin(gw: TestGateway, method: string, path: string, body?: unknown) {
  const r = await request(gw.adminUrl, path, {
    method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: JSON.parse(r.body) };
}

async function signedGet(gw: TestGateway, accessKeyId: string, secretAccessKey: string) {
  const host = `127.0.0.1:${gw.port}`;
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region: 'us-east-1', service: 'execute-api', sha256: Sha256 });
  const s = (await signer.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: gw.port, path: '/prod/v', headers: { host } }))) as HttpRequest;
  return request(gw.url, '/prod/v', { headers: s.headers });
}

after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('rotate the master key: previous key opens old secrets, reseal re-encrypts them, then the new key alone works', async () => {
  const first = await node(undefined, { PORTCULLIS_MASTER_KEY: K1 });
  const dataDir = first.dir;
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] };
  assert.equal((await admin(first, 'POST', '/v1/iam/policies', { name: 'all', document: policy })).status, 201);
  const p = await admin(first, 'POST', '/v1/iam/principals', { type: 'user', name: 'rot', policies: ['all'] });
  const k = await admin(first, 'POST', `/v1/iam/principals/${p.json.principal.id}/access-keys`);
  const { accessKeyId, secretAccessKey } = k.json.accessKey as { accessKeyId: string; secretAccessKey: string };
  await eventually(async () => (await signedGet(first, accessKeyId, secretAccessKey)).status === 200);
  await first.gateway.close();

  const rotating = await node(dataDir, { PORTCULLIS_MASTER_KEY: K2, PORTCULLIS_MASTER_KEY_PREVIOUS: K1 });
  await eventually(async () => (await signedGet(rotating, accessKeyId, secretAccessKey)).status === 200);
  const resealed = await admin(rotating, 'POST', '/v1/iam/reseal-secrets');
  assert.equal(resealed.status, 200, JSON.stringify(resealed.json));
  assert.equal(resealed.json.resealed, 1);
  assert.equal((await admin(rotating, 'POST', '/v1/iam/reseal-secrets')).json.resealed, 0, 'nothing is left under the old key');
  await rotating.gateway.close();

  const rotated = await node(dataDir, { PORTCULLIS_MASTER_KEY: K2 });
  await eventually(async () => (await signedGet(rotated, accessKeyId, secretAccessKey)).status === 200);
  await rotated.gateway.close();

  const wrong = await node(dataDir, { PORTCULLIS_MASTER_KEY: K3 });
  const r = await signedGet(wrong, accessKeyId, secretAccessKey);
  assert.equal(r.status, 403);
  assert.deepEqual(JSON.parse(r.body), { message: 'The security token included in the request is invalid.' });
  await wrong.gateway.close();
});
