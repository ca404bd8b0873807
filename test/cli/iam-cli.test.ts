// `portcullis policies|principals|access-keys|policy` as a user runs them (node bin/portcullis.js in a child
// process) against a real gateway: a policy file validated locally with line and column, put/list/show, a
// principal with tags and policies, an access key whose secret is printed once and then signs a request the
// gateway accepts, deactivation, session credentials, and the simulator's explanation and exit code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ADMIN_TOKEN, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
let gw: TestGateway;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...clean, PORTCULLIS_ADMIN_URL: gw.adminUrl, PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function signedGet(accessKeyId: string, secretAccessKey: string, path: string, sessionToken?: string) {
  const host = `127.0.0.1:${gw.port}`;
  const signer = new SignatureV4({ credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }, region: 'us-east-1', service: 'execute-api', sha256: Sha256 });
  const s = (await signer.sign(new HttpRequest({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: gw.port, path, headers: { host } }))) as HttpRequest;
  return request(gw.url, path, { headers: s.headers });
}

const policy = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'ReadPets', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:us-east-1:123456789012:*/prod/GET/pets' },
    { Sid: 'TeamOnly', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'admins' } } },
  ],
};

before(async () => {
  gw = await startTestGateway({
    apis: [{ name: 'pets', stages: { prod: {} }, routes: [
      { method: 'GET', path: '/pets', auth: 'iam', integration: { type: 'mock', body: { ok: true } } },
      { method: 'GET', path: '/admin', auth: 'iam', integration: { type: 'mock', body: { ok: true } } },
    ] }],
  });
});
after(() => gw?.close());

describe('portcullis policy validate', () => {
  test('a valid file passes; an invalid one lists every problem at file:line:column with the JSON path (exit 1)', async () => {
    const good = join(gw.dir, 'good.json');
    await writeFile(good, JSON.stringify(policy, null, 2));
    const ok = await cli(['policy', 'validate', good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /is a valid identity policy \(2 statements\)/);
    const bad = join(gw.dir, 'bad.json');
    await writeFile(bad, '{\n  "Version": "2012-10-17",\n  "Statement": [{\n    "Effect": "Allow",\n    "Action": "execute-api:Invoke",\n    "Resource": "*",\n    "Condition": {"IpAddress": {"aws:SourceIp": "300.1.2.3/8"}}\n  }]\n}\n');
    const r = await cli(['policy', 'validate', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.json is not a valid identity policy \(1 problem\)/);
    assert.match(r.stderr, /bad\.json:7:\d+ Statement\[0\]\.Condition\.IpAddress\["aws:SourceIp"\]: /);
    const asResource = await cli(['policy', 'validate', '--resource', good]);
    assert.equal(asResource.code, 1);
    assert.match(asResource.stderr, /needs Principal/);
  });
});

describe('portcullis policies / principals / access-keys / policy simulate', () => {
  test('the full cycle: put a policy, create a principal and a key, sign with the printed secret, deactivate', async () => {
    const file = join(gw.dir, 'pets.json');
    await writeFile(file, JSON.stringify(policy));
    const put = await cli(['policies', 'put', 'pets-read', file, '--description', 'read pets']);
    assert.equal(put.code, 0, put.stderr);
    assert.match(put.stdout, /created policy pets-read/);
    assert.match((await cli(['policies', 'list'])).stdout, /pets-read\s+read pets/);
    assert.deepEqual(JSON.parse((await cli(['policies', 'show', 'pets-read'])).stdout), policy);

    const created = await cli(['principals', 'create', 'user', 'carol', '--tag', 'team=pets', '--policy', 'pets-read']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created user arn:aws:iam::123456789012:user\/carol \(AIDA\w+\)/);
    const show = await cli(['principals', 'show', 'arn:aws:iam::123456789012:user/carol']);
    assert.match(show.stdout, /team=pets/);
    assert.match(show.stdout, /pets-read/);

    const key = await cli(['access-keys', 'create', 'arn:aws:iam::123456789012:user/carol']);
    assert.equal(key.code, 0, key.stderr);
    const id = /created access key (AKIA\w+)/.exec(key.stdout)?.[1];
    const secret = /\n  (\S{40})\n/.exec(key.stdout)?.[1];
    assert.ok(id && secret, key.stdout);
    const list = await cli(['access-keys', 'list']);
    assert.match(list.stdout, new RegExp(`${id}\\s+AIDA\\w+\\s+active`));
    assert.equal(list.stdout.includes(secret), false, 'the secret is printed once only');
    await eventually(async () => (await signedGet(id, secret, '/prod/pets')).status === 200);
    assert.equal((await signedGet(id, secret, '/prod/admin')).status, 403);

    const upd = await cli(['principals', 'update', 'arn:aws:iam::123456789012:user/carol', '--tag', 'team=admins']);
    assert.equal(upd.code, 0, upd.stderr);
    await eventually(async () => (await signedGet(id, secret, '/prod/admin')).status === 200);

    const creds = await cli(['principals', 'session-credentials', 'arn:aws:iam::123456789012:user/carol', '--duration', '900']);
    assert.equal(creds.code, 0, creds.stderr);
    const env = Object.fromEntries([...creds.stdout.matchAll(/^(AWS_\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    assert.match(env.AWS_ACCESS_KEY_ID ?? '', /^ASIA/);
    await eventually(async () => (await signedGet(env.AWS_ACCESS_KEY_ID!, env.AWS_SECRET_ACCESS_KEY!, '/prod/pets', env.AWS_SESSION_TOKEN)).status === 200);

    assert.equal((await cli(['access-keys', 'deactivate', id])).code, 0);
    await eventually(async () => (await signedGet(id, secret, '/prod/pets')).status === 403);
  });

  test('policy simulate: the decision, the deciding statement, and why the others did not match; exit 2 when denied', async () => {
    const allow = await cli(['policy', 'simulate', '--api', 'pets', '--method', 'GET', '--path', '/pets', '--principal', 'arn:aws:iam::123456789012:user/carol', '--tag', 'team=pets']);
    assert.equal(allow.code, 0, allow.stderr + allow.stdout);
    assert.match(allow.stdout, /✓ Allow: GET \/pets → arn:aws:execute-api:us-east-1:123456789012:\w+\/prod\/GET\/pets \(same account/);
    assert.match(allow.stdout, /→ pets-read "ReadPets" \(Allow\): matched, decided/);
    assert.match(allow.stdout, /- pets-read "TeamOnly" \(Allow\): did not match\n\s+Condition StringEquals "aws:PrincipalTag\/team" "admins" is false: the request has aws:PrincipalTag\/team = "pets"/);
    const deny = await cli(['policy', 'simulate', '--api', 'pets', '--method', 'DELETE', '--path', '/pets', '--principal', 'arn:aws:iam::123456789012:user/carol', '--tag', 'team=pets']);
    assert.equal(deny.code, 2);
    assert.match(deny.stdout, /✗ ImplicitDeny/);
    assert.match(deny.stdout, /403 AccessDeniedException: User: arn:aws:iam::123456789012:user\/carol is not authorized to perform: execute-api:Invoke on resource: /);
  });
});
