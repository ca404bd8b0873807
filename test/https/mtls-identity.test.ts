// Mutual TLS end to end, what the verified client certificate becomes: an IAM-style principal for
// `auth: mtls` routes (identity policies from the IAM store), condition keys for resource policies,
// $context.identity.clientCert in access logs, AWS's clientCert in custom-authorizer events, headers to the
// upstream over HTTP/1.1 and HTTP/2; and a truststore swapped on disk.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import http2 from 'node:http2';
import { ADMIN_TOKEN, eventually, request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createPki, type PkiFiles } from '../helpers/pki.ts';
import { createCa, issueCertificate, type Pem } from '../../src/tls/dev-certs.ts';

const ACCOUNT = '123456789012';
const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/client-1`;
const GHOST_ARN = `arn:aws:iam::${ACCOUNT}:user/ghost`;

interface Seen {
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

const colonHex = (pem: string) => new X509Certificate(pem).serialNumber.toLowerCase().match(/../g)!.join(':');

describe('mutual TLS identity', () => {
  let gw: TestGateway;
  let pki: PkiFiles;
  let upstream: Awaited<ReturnType<typeof startServer>>;
  let authorizer: Awaited<ReturnType<typeof startServer>>;
  let port: number;
  let truststore: string;
  let ghost: Pem;
  let outsider: Pem;
  const seen: Seen[] = [];
  const events: Array<Record<string, unknown>> = [];

  before(async () => {
    upstream = await startServer((req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url }));
    });
    authorizer = await startServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        const event = JSON.parse(body) as Record<string, unknown>;
        events.push(event);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({
          principalId: 'partner',
          policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: event.methodArn }] },
        }));
      });
    });
    pki = await createPki(await mkdtemp(join(tmpdir(), 'portcullis-mtls-')));
    truststore = join(pki.dir, 'truststore.pem');
    await writeFile(truststore, pki.ca.cert);
    [ghost, outsider] = await Promise.all([
      issueCertificate(pki.ca, { commonName: 'ghost', usage: 'client' }),
      issueCertificate(pki.ca, { commonName: 'outsider', usage: 'client' }),
    ]);
    const proxy = (path: string) => ({ type: 'http_proxy', url: `${upstream.url}${path}` });
    const definition = {
      settings: {
        accountId: ACCOUNT,
        accessLog: {
          format: '$context.identity.clientCert.subjectDN|$context.identity.clientCert.issuerDN|$context.identity.clientCert.serialNumber|$context.identity.clientCert.validity.notAfter|$context.identity.userArn|$context.resourcePath|$context.status|$context.tlsVersion|$context.cipherSuite|$context.requestId',
        },
      },
      authorizers: { partner: { type: 'request', url: `${authorizer.url}/authorize`, identitySources: ['header.X-Token'], resultTtlSeconds: 0 } },
      apis: [
        {
          name: 'pets',
          basePath: '/pets-api',
          stages: { prod: {} },
          routes: [
            { method: 'GET', path: '/me', auth: 'mtls', integration: proxy('/me') },
            { method: 'GET', path: '/admin', auth: 'mtls', integration: proxy('/admin') },
            { method: 'GET', path: '/partner', auth: { authorizer: 'partner' }, integration: proxy('/partner') },
            { method: 'GET', path: '/open', integration: proxy('/open') },
          ],
        },
        {
          name: 'vault',
          basePath: '/vault-api',
          stages: { prod: {} },
          resourcePolicy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: '*',
                Action: 'execute-api:Invoke',
                Resource: 'execute-api:/*',
                Condition: {
                  StringEquals: { 'portcullis:ClientCertIssuer': 'CN=Test CA,O=Portcullis' },
                  'ForAnyValue:StringLike': { 'portcullis:ClientCertSan': 'URI:spiffe://test/*' },
                },
              },
            ],
          },
          routes: [{ method: 'GET', path: '/secret', integration: proxy('/secret') }],
        },
      ],
      domains: [
        {
          name: 'a.test',
          certificate: pki.server.a,
          basePathMappings: [
            { api: 'pets', stage: 'prod' },
            { basePath: 'vault', api: 'vault', stage: 'prod' },
          ],
          mtls: {
            truststore,
            mode: 'required',
            upstreamHeaders: {
              'X-Client-Subject': 'subjectDN',
              'X-Client-Issuer': 'issuerDN',
              'X-Client-Serial': 'serialNumber',
              'X-Client-Not-After': 'validity.notAfter',
              'X-Client-Sans': 'subjectAlternativeNames',
              'X-Client-Cert': 'clientCertPem',
              'X-Client-Principal': 'principalArn',
            },
            principals: [
              { san: 'URI:spiffe://test/client-1', principalArn: USER_ARN },
              { subject: 'CN=ghost', principalArn: GHOST_ARN },
            ],
          },
        },
      ],
    };
    gw = await startTestGateway(definition, { httpsListen: { host: '127.0.0.1', port: 0 }, httpMode: 'refuse' });
    port = Number(new URL(gw.gateway.httpsUrl!).port);

    // client-1 is an IAM user (created through the admin API) whose identity policy allows GET /me only.
    const admin = (path: string, body: unknown) =>
      request(gw.adminUrl, path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const policy = await admin('/v1/iam/policies', {
      name: 'me-only',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:*/prod/GET/me' }] },
    });
    assert.equal(policy.status, 201, policy.body);
    const principal = await admin('/v1/iam/principals', { type: 'user', name: 'client-1', accountId: ACCOUNT, policies: ['me-only'] });
    assert.equal(principal.status, 201, principal.body);
    assert.equal(JSON.parse(principal.body).principal.arn, USER_ARN);
  });

  after(async () => {
    await gw?.close();
    await upstream?.close();
    await authorizer?.close();
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  function get(
    path: string,
    client: Pem | undefined,
    opts: { agent?: https.Agent; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, path, servername: 'a.test', ca: pki.ca.cert, cert: client?.cert, key: client?.key, agent: opts.agent ?? false, headers: { host: 'a.test', ...opts.headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  test('auth: mtls: the mapped IAM principal is allowed what its identity policy allows and no more', async () => {
    // Every node's IAM directory picks the new principal up within about a second.
    await eventually(async () => (await get('/me', pki.clients.valid)).status === 200, 10_000, 100);
    const h = seen.at(-1)!.headers;
    assert.equal(seen.at(-1)!.path, '/me');
    assert.equal(h['x-client-principal'], USER_ARN);

    const admin = await get('/admin', pki.clients.valid);
    assert.equal(admin.status, 403);
    assert.equal(admin.headers['x-amzn-errortype'], 'AccessDeniedException');
    assert.match(JSON.parse(admin.body).Message, new RegExp(`^User: ${USER_ARN} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:[^:]+:${ACCOUNT}:[a-z0-9]+/prod/GET/admin$`));
  });

  test('auth: mtls: a principal the IAM store does not know has no identity policies; an unmapped certificate is refused', async () => {
    const res = await get('/me', ghost);
    assert.equal(res.status, 403);
    assert.match(JSON.parse(res.body).Message, new RegExp(`^User: ${GHOST_ARN} is not authorized`));
    const unmapped = await get('/me', outsider);
    assert.equal(unmapped.status, 403);
    assert.equal(JSON.parse(unmapped.body).message, 'User is not authorized to access this resource');
  });

  test('the upstream receives the certificate fields; client-supplied copies are replaced or removed', async () => {
    const forged = { 'x-client-subject': 'CN=admin', 'x-client-principal': 'arn:aws:iam::123456789012:root', 'x-client-cert': 'forged' };
    assert.equal((await get('/open', pki.clients.valid, { headers: forged })).status, 200);
    const h = seen.at(-1)!.headers;
    assert.equal(h['x-client-subject'], 'CN=client-1,O=Pets');
    assert.equal(h['x-client-issuer'], 'CN=Test CA,O=Portcullis');
    assert.equal(h['x-client-serial'], colonHex(pki.clients.valid.cert));
    assert.equal(h['x-client-not-after'], new X509Certificate(pki.clients.valid.cert).validTo);
    assert.equal(h['x-client-sans'], 'URI:spiffe://test/client-1');
    assert.equal(decodeURIComponent(String(h['x-client-cert'])).trim(), pki.clients.valid.cert.trim());
    // principalArn is set by auth: mtls only; on a route without it the forged copy is just removed.
    assert.equal(h['x-client-principal'], undefined);
  });

  test('HTTP/2 carries the client certificate identity too', async () => {
    const session = http2.connect(`https://a.test:${port}`, {
      ca: pki.ca.cert,
      cert: pki.clients.valid.cert,
      key: pki.clients.valid.key,
      servername: 'a.test',
      host: '127.0.0.1',
      lookup: (_h, _o, cb) => cb(null, '127.0.0.1', 4),
    } as http2.SecureClientSessionOptions);
    try {
      const stream = session.request({ ':method': 'GET', ':path': '/me', 'x-client-subject': 'CN=forged' });
      stream.end();
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => stream.on('response', resolve).on('error', reject));
      stream.resume();
      await new Promise((r) => stream.on('end', r));
      assert.equal(session.alpnProtocol, 'h2');
      assert.equal(headers[':status'], 200);
      assert.equal(seen.at(-1)!.headers['x-client-subject'], 'CN=client-1,O=Pets');
      assert.equal(seen.at(-1)!.headers['x-client-principal'], USER_ARN);
    } finally {
      session.close();
    }
  });

  test('resource policies read the certificate as condition keys (issuer, SANs)', async () => {
    assert.equal((await get('/vault/secret', pki.clients.valid)).status, 200);
    assert.equal(seen.at(-1)!.path, '/secret');
    // Same CA, no spiffe SAN: the Allow's condition fails, nothing else allows.
    const denied = await get('/vault/secret', outsider);
    assert.equal(denied.status, 403);
    assert.match(JSON.parse(denied.body).Message, /^User: anonymous is not authorized to perform: execute-api:Invoke/);
  });

  test('$context.identity.clientCert.*, $context.tlsVersion and $context.cipherSuite reach the access log', async () => {
    const before = gw.logLines.length;
    assert.equal((await get('/me', pki.clients.valid)).status, 200);
    await eventually(() => gw.logLines.length > before);
    const notAfter = new X509Certificate(pki.clients.valid.cert).validTo;
    const fields = gw.logLines.at(-1)!.split('|');
    assert.equal(fields.slice(0, 7).join('|'), `CN=client-1,O=Pets|CN=Test CA,O=Portcullis|${colonHex(pki.clients.valid.cert)}|${notAfter}|${USER_ARN}|/me|200`);
    assert.equal(fields[7], 'TLSv1.3');
    assert.match(fields[8], /^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/);
  });

  test("a custom authorizer's REQUEST event carries requestContext.identity.clientCert in AWS's shape", async () => {
    const res = await get('/partner', pki.clients.valid, { headers: { 'x-token': 't' } });
    assert.equal(res.status, 200);
    const identity = (events.at(-1)!.requestContext as { identity: { clientCert: unknown } }).identity;
    const x = new X509Certificate(pki.clients.valid.cert);
    assert.deepEqual(identity.clientCert, {
      clientCertPem: x.toString(),
      subjectDN: 'CN=client-1,O=Pets',
      issuerDN: 'CN=Test CA,O=Portcullis',
      serialNumber: colonHex(pki.clients.valid.cert),
      validity: { notBefore: x.validFrom, notAfter: x.validTo },
    });
  });

  // Last: changes the truststore.
  test('a truststore swapped on disk applies to new connections; open ones finish; an invalid one is rejected', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, cert: pki.clients.valid.cert, key: pki.clients.valid.key });
    try {
      assert.equal((await get('/open', pki.clients.valid, { agent })).status, 200);
      const newCa = await createCa('Second CA');
      const newClient = await issueCertificate(newCa, { commonName: 'second-client', usage: 'client' });
      await writeFile(truststore, newCa.cert);
      await gw.gateway.reloadCertificates();
      await eventually(async () => (await get('/open', newClient).then((r) => r.status, () => 0)) === 200, 10_000, 100);
      await assert.rejects(get('/open', pki.clients.valid));
      // The kept-alive connection was admitted under the old truststore and still works.
      assert.equal((await get('/open', pki.clients.valid, { agent })).status, 200);

      // A truststore holding a non-CA certificate is refused; the current one keeps serving.
      await writeFile(truststore, newClient.cert);
      await gw.gateway.reloadCertificates();
      assert.equal((await get('/open', newClient)).status, 200);
      assert.equal(await readFile(truststore, 'utf8'), newClient.cert);
    } finally {
      agent.destroy();
    }
  });
});
