// IAM principals and Signature V4 end to end: principals, policies and access keys created through the admin
// API of a real gateway, requests signed by the AWS SDK's signer (@smithy/signature-v4) sent over real sockets
// to a real upstream. Covers the happy path ($context.identity in the access log, a PUT body reaching the
// upstream intact, presigned URLs, session credentials) and every refusal with AWS's status, body and
// x-amzn-ErrorType, including the resource-policy combination rules for same-account and cross-account callers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import aws4 from 'aws4';
import { createFakeClock } from '../../src/core/clock.ts';
import { ADMIN_TOKEN, eventually, request, startServer, startTestGateway, type SimpleResponse, type TestGateway } from '../helpers/gateway.ts';

const ACCOUNT = '111111111111';
const OTHER = '222222222222';
const REGION = 'us-east-1';
const clock = createFakeClock(Date.UTC(2026, 5, 1, 12, 0, 0));
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const LOG_FORMAT = '$context.requestId caller=$context.identity.caller user=$context.identity.user userArn=$context.identity.userArn account=$context.identity.accountId key=$context.identity.accessKey status=$context.status';

interface Creds { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }

let gw: TestGateway;
let upstream: Awaited<ReturnType<typeof startServer>>;
const seen: Seen[] = [];
const keys: Record<string, Creds & { principalArn: string }> = {};

const iamRoute = (method: string, path: string) => ({ method, path, auth: 'iam', integration: { type: 'http_proxy', url: '${stageVariables.up}' + path.replace(/\{(\w+)\}/g, '{$1}') } });
const arn = (apiId: string, rest: string) => `arn:aws:execute-api:${REGION}:${ACCOUNT}:${apiId}/${rest}`;

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await request(gw.adminUrl, path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
}

async function newPrincipal(label: string, spec: { name: string; type?: 'user' | 'role'; accountId?: string; tags?: Record<string, string>; policies?: string[] }) {
  const p = await admin('POST', '/v1/iam/principals', { type: 'user', ...spec });
  assert.equal(p.status, 201, JSON.stringify(p.json));
  const k = await admin('POST', `/v1/iam/principals/${encodeURIComponent(p.json.principal.arn)}/access-keys`, undefined);
  assert.equal(k.status, 201, JSON.stringify(k.json));
  keys[label] = { accessKeyId: k.json.accessKey.accessKeyId, secretAccessKey: k.json.accessKey.secretAccessKey, principalArn: p.json.principal.arn };
  return p.json.principal as { id: string; arn: string };
}

interface SignInit { method?: string; path: string; query?: Record<string, string | string[]>; headers?: Record<string, string>; body?: Buffer | string; at?: number; region?: string }

async function signedRequest(creds: Creds, init: SignInit, presign = false): Promise<SimpleResponse> {
  const host = `127.0.0.1:${gw.port}`;
  const signer = new SignatureV4({ credentials: creds, region: init.region ?? REGION, service: 'execute-api', sha256: Sha256 });
  const req = new HttpRequest({
    method: init.method ?? 'GET', protocol: 'http:', hostname: '127.0.0.1', port: gw.port, path: init.path, query: init.query ?? {},
    headers: { host, ...init.headers }, ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const signingDate = new Date(init.at ?? clock.now());
  const s = (presign ? await signer.presign(req, { signingDate, expiresIn: 300 }) : await signer.sign(req, { signingDate })) as HttpRequest;
  const q = Object.entries(s.query).flatMap(([k, v]) => (Array.isArray(v) ? v : [v ?? '']).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)).join('&');
  const headers: Record<string, string> = { ...s.headers };
  if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
  return request(gw.url, s.path + (q ? `?${q}` : ''), { method: s.method, headers, body: init.body });
}

const get = (who: string, path: string, extra: Partial<SignInit> = {}) => signedRequest(keys[who]!, { path, ...extra });
const json = (r: SimpleResponse) => JSON.parse(r.body) as Record<string, unknown>;

function assertDenied(r: SimpleResponse, message: string): void {
  assert.equal(r.status, 403, r.body);
  assert.equal(r.headers['x-amzn-errortype'], 'AccessDeniedException');
  assert.deepEqual(json(r), { Message: message });
}

before(async () => {
  upstream = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  gw = await startTestGateway({
    settings: { region: REGION, accountId: ACCOUNT, accessLog: { format: LOG_FORMAT, enabled: true } },
    apis: [
      {
        name: 'iam', id: 'iamapi0001', basePath: '/iam', stages: { prod: { variables: { up: upstream.url } } },
        routes: [iamRoute('GET', '/pets'), iamRoute('GET', '/pets/{id}'), iamRoute('PUT', '/pets/{id}'), iamRoute('GET', '/users/{name}'), iamRoute('GET', '/team')],
      },
      {
        name: 'shared', id: 'rpapi00001', basePath: '/rp', stages: { prod: { variables: { up: upstream.url } } },
        routes: [iamRoute('GET', '/shared'), iamRoute('GET', '/secret'), iamRoute('GET', '/granted'), iamRoute('GET', '/plain'), iamRoute('GET', '/deploy')],
        resourcePolicy: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'PartnerAccount', Effect: 'Allow', Principal: { AWS: OTHER }, Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/GET/shared' },
            { Sid: 'NoSecrets', Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*/GET/secret' },
            { Sid: 'GrantNobody', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/nobody` }, Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/GET/granted' },
            // A role ARN names every session of the role: a role's access key signs as an assumed-role session.
            { Sid: 'GrantDeployer', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/deployer` }, Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/GET/deploy' },
          ],
        },
      },
    ],
  }, { clock });

  const policies: Record<string, unknown> = {
    petsAccess: {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Pets', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: [arn('iamapi0001', 'prod/*/pets'), arn('iamapi0001', 'prod/*/pets/*')] },
        { Sid: 'NoSeven', Effect: 'Deny', Action: 'execute-api:Invoke', Resource: arn('iamapi0001', '*/GET/pets/7') },
        { Sid: 'Self', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn('iamapi0001', 'prod/GET/users/${aws:username}') },
        { Sid: 'Team', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: arn('iamapi0001', 'prod/GET/team'), Condition: { StringEquals: { 'aws:PrincipalTag/team': 'pets' } } },
        { Sid: 'SharedApi', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:rpapi00001/*' },
      ],
    },
    everything: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:*', Resource: '*' }] },
  };
  for (const [name, document] of Object.entries(policies)) {
    const r = await admin('POST', '/v1/iam/policies', { name, document });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }
  await newPrincipal('alice', { name: 'alice', tags: { team: 'pets' }, policies: ['petsAccess'] });
  await newPrincipal('nobody', { name: 'nobody' });
  await newPrincipal('partner', { name: 'partner', accountId: OTHER, policies: ['everything'] });
  await newPrincipal('partnerNoPolicy', { name: 'lonely', accountId: OTHER });
  await newPrincipal('deployer', { type: 'role', name: 'deployer' });
  // The data plane learns of new keys asynchronously (the directory reloads on the change event).
  await eventually(async () => (await get('alice', '/iam/prod/pets')).status === 200);
  await eventually(async () => (await get('partnerNoPolicy', '/rp/prod/plain')).status === 403);
});

after(async () => {
  await gw?.close();
  await upstream?.close();
});

describe('valid signatures', () => {
  test('an allowing identity policy lets the request through; $context.identity reaches the access log; the Authorization header is not forwarded', async () => {
    seen.length = 0;
    const r = await get('alice', '/iam/prod/pets', { query: { a: ['2', '1'], empty: '' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers.authorization, undefined);
    const alice = keys.alice!;
    const line = await eventually(() => gw.logLines.find((l) => l.includes(`key=${alice.accessKeyId}`)));
    const principal = (await admin('GET', `/v1/iam/principals/${encodeURIComponent(alice.principalArn)}`)).json.principal;
    assert.match(String(line), new RegExp(`caller=${principal.id} user=${principal.id} userArn=arn:aws:iam::${ACCOUNT}:user/alice account=${ACCOUNT} key=${alice.accessKeyId} status=200$`));
    // The key's last-used time is written back in the background (batched, about once a second).
    const used = await eventually(async () => {
      const k = (await admin('GET', `/v1/iam/access-keys?principal=${principal.id}`)).json.accessKeys[0];
      return k.lastUsedAt !== null && k;
    });
    assert.equal(used.lastUsedAt, new Date(clock.now()).toISOString());
  });

  test('a signed PUT: the body reaches the upstream byte for byte', async () => {
    seen.length = 0;
    const body = Buffer.concat([randomBytes(4096), Buffer.from('{"name":"rex"}')]);
    const r = await signedRequest(keys.alice!, { method: 'PUT', path: '/iam/prod/pets/42', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 200, r.body);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.method, 'PUT');
    assert.ok(seen[0]!.body.equals(body), 'the upstream received the signed body intact');
  });

  test('paths with spaces, unicode, "+", "%2F" and reserved characters, repeated and empty query parameters: signed by smithy and by aws4', async () => {
    const paths = ['/iam/prod/pets/a%20b', '/iam/prod/pets/caf%C3%A9', '/iam/prod/pets/a+b', '/iam/prod/pets/x%2Fy', "/iam/prod/pets/r!'()*~-._", '/iam/prod/pets/s%3Ba%3Db%40c%24'];
    for (const path of paths) {
      const viaSmithy = await get('alice', path, { query: { b: ['2', '1'], a: '', q: 'x y' } });
      assert.equal(viaSmithy.status, 200, `smithy ${path}: ${viaSmithy.body}`);
      const amzDate = new Date(clock.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      const o = aws4.sign(
        { host: `127.0.0.1:${gw.port}`, path: `${path}?b=2&b=1&a=&q=x%20y`, service: 'execute-api', region: REGION, headers: { 'X-Amz-Date': amzDate } },
        { accessKeyId: keys.alice!.accessKeyId, secretAccessKey: keys.alice!.secretAccessKey },
      ) as { path: string; headers: Record<string, string> };
      const viaAws4 = await request(gw.url, o.path, { headers: o.headers });
      assert.equal(viaAws4.status, 200, `aws4 ${path}: ${viaAws4.body}`);
    }
    const json = JSON.stringify({ name: 'rex', tags: ['a', 'b'] });
    const o = aws4.sign(
      { host: `127.0.0.1:${gw.port}`, method: 'PUT', path: '/iam/prod/pets/9', body: json, service: 'execute-api', region: REGION,
        headers: { 'Content-Type': 'application/json', 'X-Amz-Date': new Date(clock.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '') } },
      { accessKeyId: keys.alice!.accessKeyId, secretAccessKey: keys.alice!.secretAccessKey },
    ) as { path: string; headers: Record<string, string> };
    seen.length = 0;
    const put = await request(gw.url, o.path, { method: 'PUT', headers: o.headers, body: json });
    assert.equal(put.status, 200, put.body);
    assert.equal(seen[0]?.body.toString('utf8'), json);
  });

  test('a tampered body is refused: the signature covers the actual body', async () => {
    const host = `127.0.0.1:${gw.port}`;
    const signer = new SignatureV4({ credentials: keys.alice!, region: REGION, service: 'execute-api', sha256: Sha256 });
    const s = (await signer.sign(new HttpRequest({ method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', port: gw.port, path: '/iam/prod/pets/1', headers: { host }, body: 'original' }), { signingDate: new Date(clock.now()) })) as HttpRequest;
    const r = await request(gw.url, '/iam/prod/pets/1', { method: 'PUT', headers: { ...s.headers, 'content-length': '8' }, body: 'tampered' });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
  });

  test('a presigned query-string URL works; after X-Amz-Expires it is refused with AWS\'s text', async () => {
    const r = await signedRequest(keys.alice!, { path: '/iam/prod/pets/3' }, true);
    assert.equal(r.status, 200, r.body);
    const old = await signedRequest(keys.alice!, { path: '/iam/prod/pets/3', at: clock.now() - 301_000 }, true);
    assert.equal(old.status, 403);
    assert.equal(old.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.match(String(json(old).message), /^Signature expired: 20260601T115459Z is now earlier than 20260601T115500Z \(20260601T120000Z - 300 sec\.\)$/);
  });

  test('policy variables and principal tags: ${aws:username} in Resource; aws:PrincipalTag/team decides, and a tag change applies without a redeploy', async () => {
    assert.equal((await get('alice', '/iam/prod/users/alice')).status, 200);
    assertDenied(await get('alice', '/iam/prod/users/bob'), `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: execute-api:Invoke on resource: ${arn('iamapi0001', 'prod/GET/users/bob')}`);
    assert.equal((await get('alice', '/iam/prod/team')).status, 200);
    const upd = await admin('POST', `/v1/iam/principals/${encodeURIComponent(keys.alice!.principalArn)}`, { tags: { team: 'billing' } });
    assert.equal(upd.status, 200, JSON.stringify(upd.json));
    await eventually(async () => (await get('alice', '/iam/prod/team')).status === 403);
    await admin('POST', `/v1/iam/principals/${encodeURIComponent(keys.alice!.principalArn)}`, { tags: { team: 'pets' } });
    await eventually(async () => (await get('alice', '/iam/prod/team')).status === 200);
  });

  test('session credentials from the STS-like admin endpoint are verified like AWS session credentials', async () => {
    const s = await admin('POST', `/v1/iam/principals/${encodeURIComponent(keys.alice!.principalArn)}/session-credentials`, { durationSeconds: 900 });
    assert.equal(s.status, 201, JSON.stringify(s.json));
    const c = s.json.credentials as Creds & { expiration: string };
    assert.match(c.accessKeyId, /^ASIA/);
    assert.equal(c.expiration, new Date(clock.now() + 900_000).toISOString());
    await eventually(async () => (await signedRequest(c, { path: '/iam/prod/pets' })).status === 200);
    const noToken = await signedRequest({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, { path: '/iam/prod/pets' });
    assert.equal(noToken.status, 403);
    assert.deepEqual(json(noToken), { message: 'The security token included in the request is invalid.' });
    const wrongToken = await signedRequest({ ...c, sessionToken: 'not-the-token' }, { path: '/iam/prod/pets' });
    assert.equal(wrongToken.status, 403);
    const start = clock.now();
    clock.set(start + 901_000);
    try {
      const expired = await signedRequest(c, { path: '/iam/prod/pets' });
      assert.equal(expired.status, 403);
      assert.equal(expired.headers['x-amzn-errortype'], 'ExpiredTokenException');
      assert.deepEqual(json(expired), { message: 'The security token included in the request is expired' });
      // Issuing new session credentials removes the principal's expired ones from the store.
      const again = await admin('POST', `/v1/iam/principals/${encodeURIComponent(keys.alice!.principalArn)}/session-credentials`, { durationSeconds: 900 });
      assert.equal(again.status, 201);
      const listed = (await admin('GET', '/v1/iam/access-keys')).json.accessKeys.map((k: { accessKeyId: string }) => k.accessKeyId);
      assert.equal(listed.includes(c.accessKeyId), false);
      assert.equal(listed.includes(again.json.credentials.accessKeyId), true);
    } finally {
      clock.set(start);
    }
  });
});

describe('signature failures with AWS\'s messages', () => {
  test('wrong secret: 403 InvalidSignatureException with the canonical request and string to sign', async () => {
    const r = await signedRequest({ ...keys.alice!, secretAccessKey: 'x'.repeat(40) }, { path: '/iam/prod/pets', query: { q: 'a b' } });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
    const message = String(json(r).message);
    const m = /^(.*)\n\nThe Canonical String for this request should have been\n'([\s\S]*)'\n\nThe String-to-Sign should have been\n'([\s\S]*)'\n$/.exec(message);
    assert.ok(m, message);
    assert.equal(m[1], SIGNATURE_MISMATCH);
    const canonical = m[2]!;
    assert.match(canonical, /^GET\n\/iam\/prod\/pets\nq=a%20b\nhost:127\.0\.0\.1:\d+\n/);
    const sts = m[3]!.split('\n');
    assert.deepEqual(sts.slice(0, 3), ['AWS4-HMAC-SHA256', '20260601T120000Z', `20260601/${REGION}/execute-api/aws4_request`]);
    assert.equal(sts[3], createHash('sha256').update(canonical).digest('hex'));
  });

  test('unknown access key: 403 "The security token included in the request is invalid."', async () => {
    const r = await signedRequest({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: keys.alice!.secretAccessKey }, { path: '/iam/prod/pets' });
    assert.equal(r.status, 403);
    assert.deepEqual(json(r), { message: 'The security token included in the request is invalid.' });
    // AWS's 403 troubleshooting table (knowledge center): AccessDeniedException with this lower-case "message".
    assert.equal(r.headers['x-amzn-errortype'], 'AccessDeniedException');
  });

  test('an inactive key is refused like an unknown one; reactivated, it works again', async () => {
    const id = keys.nobody!.accessKeyId;
    const off = await admin('POST', `/v1/iam/access-keys/${id}`, { status: 'inactive' });
    assert.equal(off.status, 200, JSON.stringify(off.json));
    assert.equal(off.json.accessKey.status, 'inactive');
    await eventually(async () => (await get('nobody', '/rp/prod/granted')).status === 403);
    const r = await get('nobody', '/rp/prod/granted');
    assert.deepEqual(json(r), { message: 'The security token included in the request is invalid.' });
    await admin('POST', `/v1/iam/access-keys/${id}`, { status: 'active' });
    await eventually(async () => (await get('nobody', '/rp/prod/granted')).status === 200);
  });

  test('a date more than 5 minutes off: "Signature expired" / "Signature not yet current"', async () => {
    const past = await get('alice', '/iam/prod/pets', { at: clock.now() - 6 * 60_000 });
    assert.equal(past.status, 403);
    assert.equal(past.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.deepEqual(json(past), { message: 'Signature expired: 20260601T115400Z is now earlier than 20260601T115500Z (20260601T120000Z - 5 min.)' });
    const future = await get('alice', '/iam/prod/pets', { at: clock.now() + 6 * 60_000 });
    assert.equal(future.status, 403);
    assert.deepEqual(json(future), { message: 'Signature not yet current: 20260601T120600Z is still later than 20260601T120500Z (20260601T120000Z + 5 min.)' });
  });

  test('wrong region in the credential scope; no signature at all', async () => {
    const r = await get('alice', '/iam/prod/pets', { region: 'eu-west-1' });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.deepEqual(json(r), { message: "Credential should be scoped to a valid Region, not 'eu-west-1'. " });
    const unsigned = await request(gw.url, '/iam/prod/pets');
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException');
    assert.deepEqual(json(unsigned), { message: 'Missing Authentication Token' });
  });
});

describe('authorization: identity policies and the resource policy (AWS tables A and B)', () => {
  test('identity policy explicit Deny: 403 with "with an explicit deny"', async () => {
    assertDenied(await get('alice', '/iam/prod/pets/7'),
      `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: execute-api:Invoke on resource: ${arn('iamapi0001', 'prod/GET/pets/7')} with an explicit deny`);
  });

  test('no Allow anywhere (no resource policy): implicit deny', async () => {
    assertDenied(await get('nobody', '/iam/prod/pets'),
      `User: arn:aws:iam::${ACCOUNT}:user/nobody is not authorized to perform: execute-api:Invoke on resource: ${arn('iamapi0001', 'prod/GET/pets')}`);
  });

  test('same account (Table A): identity Allow + resource Neither = Allow; identity Neither + resource Allow = Allow; resource Deny beats an identity Allow', async () => {
    assert.equal((await get('alice', '/rp/prod/plain')).status, 200);
    assert.equal((await get('nobody', '/rp/prod/granted')).status, 200);
    assertDenied(await get('alice', '/rp/prod/secret'),
      `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: execute-api:Invoke on resource: ${arn('rpapi00001', 'prod/GET/secret')} with an explicit deny`);
    assertDenied(await get('nobody', '/rp/prod/plain'),
      `User: arn:aws:iam::${ACCOUNT}:user/nobody is not authorized to perform: execute-api:Invoke on resource: ${arn('rpapi00001', 'prod/GET/plain')}`);
  });

  test('a role: its key signs as an assumed-role session, which a resource policy naming the role ARN allows', async () => {
    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/${keys.deployer!.accessKeyId}`;
    await eventually(async () => (await get('deployer', '/rp/prod/deploy')).status === 200);
    const line = await eventually(() => gw.logLines.find((l) => l.includes(`key=${keys.deployer!.accessKeyId}`) && l.endsWith('status=200')));
    assert.match(String(line), new RegExp(`caller=AROA\\w+:${keys.deployer!.accessKeyId} user=AROA\\w+:${keys.deployer!.accessKeyId} userArn=${session.replace(/[/]/g, '\\/')} account=${ACCOUNT} `));
    assertDenied(await get('deployer', '/rp/prod/plain'), `User: ${session} is not authorized to perform: execute-api:Invoke on resource: ${arn('rpapi00001', 'prod/GET/plain')}`);
  });

  test('another account (Table B): both sides must allow', async () => {
    const p = `arn:aws:iam::${OTHER}:user/partner`;
    assert.equal((await get('partner', '/rp/prod/shared')).status, 200, 'identity Allow + resource Allow');
    assertDenied(await get('partner', '/rp/prod/plain'), `User: ${p} is not authorized to perform: execute-api:Invoke on resource: ${arn('rpapi00001', 'prod/GET/plain')}`);
    assertDenied(await get('partnerNoPolicy', '/rp/prod/shared'),
      `User: arn:aws:iam::${OTHER}:user/lonely is not authorized to perform: execute-api:Invoke on resource: ${arn('rpapi00001', 'prod/GET/shared')}`);
    assertDenied(await get('partner', '/rp/prod/secret'), `User: ${p} is not authorized to perform: execute-api:Invoke on resource: ${arn('rpapi00001', 'prod/GET/secret')} with an explicit deny`);
    // An API without a resource policy cannot be called from another account at all.
    assertDenied(await get('partner', '/iam/prod/pets'), `User: ${p} is not authorized to perform: execute-api:Invoke on resource: ${arn('iamapi0001', 'prod/GET/pets')}`);
  });
});
