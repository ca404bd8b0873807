// HTTPS end to end with real TLS clients (Node's tls/https/http2, curl, openssl s_client): security
// policies, SNI, ALPN h2, custom domain mappings, HSTS, redirects, mutual TLS and certificate reload.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import http2 from 'node:http2';
import tls from 'node:tls';
import { eventually, request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createPki, type PkiFiles } from '../helpers/pki.ts';
import { issueCertificate, type Pem } from '../../src/tls/dev-certs.ts';

const run = promisify(execFile);

interface Seen {
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

describe('HTTPS listener', () => {
  let gw: TestGateway;
  let pki: PkiFiles;
  let upstream: Awaited<ReturnType<typeof startServer>>;
  let port: number;
  const seen: Seen[] = [];

  before(async () => {
    upstream = await startServer((req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url }));
    });
    pki = await createPki(await mkdtemp(join(tmpdir(), 'portcullis-pki-')));
    const definition = {
      settings: { hsts: { maxAge: 600, includeSubDomains: true, preload: false } },
      apis: [
        {
          name: 'pets',
          basePath: '/pets-api',
          stages: { prod: { variables: {} } },
          routes: [
            { method: 'ANY', path: '/whoami', integration: { type: 'http_proxy', url: `${upstream.url}/whoami` } },
            { method: 'GET', path: '/health', integration: { type: 'mock', body: { ok: true } } },
            { method: 'GET', path: '/me', auth: 'mtls', integration: { type: 'http_proxy', url: `${upstream.url}/me` } },
          ],
        },
      ],
      domains: [
        { name: 'a.test', certificate: pki.server.a, basePathMappings: [{ api: 'pets', stage: 'prod' }] },
        {
          name: 'b.test',
          certificate: pki.server.b,
          securityPolicy: 'TLS_1_3',
          basePathMappings: [{ basePath: 'v1', api: 'pets', stage: 'prod' }],
          mtls: {
            truststore: pki.truststore,
            mode: 'required',
            crl: pki.crl,
            upstreamHeaders: { 'X-Client-Subject': 'subjectDN', 'X-Client-Serial': 'serialNumber', 'X-Client-Principal': 'principalArn' },
            principals: [{ san: 'URI:spiffe://test/client-1', principalArn: 'arn:aws:iam::123456789012:user/client-1' }],
          },
        },
        {
          name: 'c.test',
          certificate: pki.server.b,
          basePathMappings: [{ api: 'pets', stage: 'prod' }],
          mtls: { truststore: pki.truststore, mode: 'optional', upstreamHeaders: { 'X-Client-Subject': 'subjectDN' } },
        },
      ],
    };
    gw = await startTestGateway(definition, { httpsListen: { host: '127.0.0.1', port: 0 }, httpMode: 'redirect' });
    port = Number(new URL(gw.gateway.httpsUrl!).port);
  });

  after(async () => {
    await gw?.close();
    await upstream?.close();
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  /** One HTTPS/1.1 request on a fresh connection. */
  function get(
    servername: string,
    path: string,
    opts: { client?: Pem; host?: string; agent?: https.Agent; method?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; cert: tls.PeerCertificate }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: opts.method ?? 'GET',
          servername,
          ca: pki.ca.cert,
          cert: opts.client?.cert,
          key: opts.client?.key,
          agent: opts.agent ?? false,
          headers: { host: opts.host ?? servername, ...opts.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          const cert = (res.socket as tls.TLSSocket).getPeerCertificate();
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), cert }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  const curlBase = () => ['-sS', '--cacert', pki.caCert, '--resolve', `a.test:${port}:127.0.0.1`, '--resolve', `b.test:${port}:127.0.0.1`];

  test('a custom domain maps host + path to the API stage without the stage segment, with HSTS', async () => {
    const res = await get('a.test', '/whoami?x=1');
    assert.equal(res.status, 200);
    assert.equal(seen.at(-1)?.path, '/whoami?x=1');
    assert.equal(seen.at(-1)?.headers['x-forwarded-proto'], 'https');
    assert.equal(res.headers['strict-transport-security'], 'max-age=600; includeSubDomains');
    assert.equal(res.cert.subject.CN, 'a.test');
    // The execute-api style path is not mapped on a custom domain.
    const unmapped = await get('a.test', '/pets-api/prod/whoami');
    assert.equal(unmapped.status, 403);
    assert.equal(JSON.parse(unmapped.body).message, 'Missing Authentication Token');
  });

  test('SNI picks the certificate; an unknown server name is refused in the handshake', async () => {
    const res = await get('c.test', '/health');
    assert.equal(res.status, 200);
    assert.equal(res.cert.subject.CN, 'b.test');
    await assert.rejects(get('unknown.test', '/health'), /unrecognized name|alert|ECONNRESET|socket hang up/i);
  });

  test('a Host that is not the TLS server name is refused with 403', async () => {
    const res = await get('a.test', '/health', { host: 'c.test' });
    assert.equal(res.status, 403);
    assert.equal(JSON.parse(res.body).message, 'Forbidden');
  });

  test('curl negotiates HTTP/2 via ALPN; the request goes through the dispatcher', async () => {
    const { stdout } = await run('curl', [...curlBase(), '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://a.test:${port}/whoami?via=curl`]);
    assert.equal(stdout, '2 200');
    assert.equal(seen.at(-1)?.path, '/whoami?via=curl');
    assert.equal(seen.at(-1)?.headers.host, `127.0.0.1:${new URL(upstream.url).port}`);
    assert.equal(seen.at(-1)?.headers['x-forwarded-host'], `a.test:${port}`);
  });

  test("Node's HTTP/2 client: POST with a body reaches the upstream", async () => {
    const session = http2.connect(`https://a.test:${port}`, { ca: pki.ca.cert, servername: 'a.test', host: '127.0.0.1', lookup: (_h, _o, cb) => cb(null, '127.0.0.1', 4) } as http2.SecureClientSessionOptions);
    try {
      const stream = session.request({ ':method': 'POST', ':path': '/whoami', 'content-type': 'text/plain' });
      stream.end('hello');
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.on('response', resolve));
      let body = '';
      stream.on('data', (c: Buffer) => (body += c));
      await new Promise((r) => stream.on('end', r));
      assert.equal(headers[':status'], 200);
      assert.equal(headers['strict-transport-security'], 'max-age=600; includeSubDomains');
      assert.equal(JSON.parse(body).path, '/whoami');
      assert.equal(session.alpnProtocol, 'h2');
    } finally {
      session.close();
    }
  });

  test('TLS_1_2: TLS 1.1 and CBC-SHA1 ciphers are refused, an AWS TLS_1_2 cipher is accepted (openssl s_client)', async () => {
    const sclient = async (args: string[]) => {
      const child = run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'a.test', '-CAfile', pki.caCert, ...args], { timeout: 10_000 });
      // s_client keeps the connection open while stdin is: close it so a successful handshake returns.
      child.child.stdin?.end();
      const r = await child.then(
        (x) => ({ ok: true, out: x.stdout + x.stderr }),
        (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
      );
      return r;
    };
    // SECLEVEL=0 makes the client willing to offer the weak settings: the refusal is the server's.
    const tls11 = await sclient(['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
    assert.equal(tls11.ok, false);
    assert.match(tls11.out, /Cipher is \(NONE\)/);
    assert.match(tls11.out, /alert protocol version|unsupported protocol|wrong version/i);
    const weak = await sclient(['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0']);
    assert.equal(weak.ok, false);
    assert.match(weak.out, /Cipher is \(NONE\)/);
    assert.match(weak.out, /handshake failure/i);
    const good = await sclient(['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
    assert.equal(good.ok, true);
    assert.match(good.out, /Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
    assert.match(good.out, /Verify return code: 0 \(ok\)/);
  });

  test("TLS_1_2: Node's TLS client is refused TLS 1.1 and a CBC-SHA1 suite, and gets TLS 1.3 by default", async () => {
    const connect = (opts: tls.ConnectionOptions) =>
      new Promise<{ protocol: string | null; cipher: string }>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'a.test', ca: pki.ca.cert, ...opts }, () => {
          resolve({ protocol: s.getProtocol(), cipher: s.getCipher().name });
          s.end();
        });
        s.on('error', reject);
      });
    await assert.rejects(connect({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), /protocol version|no protocols available|unsupported protocol/i);
    await assert.rejects(connect({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA@SECLEVEL=0' }), /handshake failure|no shared cipher/i);
    assert.deepEqual(await connect({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-SHA384' }), { protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES256-SHA384' });
    assert.equal((await connect({})).protocol, 'TLSv1.3');
  });

  test('TLS_1_3 policy: a TLS 1.2 client is refused (curl)', async () => {
    await assert.rejects(
      run('curl', [...curlBase(), '--tls-max', '1.2', `https://b.test:${port}/v1/health`]),
      /alert protocol version|tlsv1 alert|SSL routines/i,
    );
  });

  describe('mutual TLS (required, with a CRL)', () => {
    test('a valid client certificate reaches the upstream with its identity; client copies are replaced', async () => {
      const res = await get('b.test', '/v1/whoami', { client: pki.clients.valid, headers: { 'x-client-subject': 'CN=admin', 'x-client-serial': 'forged' } });
      assert.equal(res.status, 200);
      const h = seen.at(-1)!.headers;
      assert.equal(h['x-client-subject'], 'CN=client-1,O=Pets');
      assert.match(String(h['x-client-serial']), /^[0-9a-f]{2}(:[0-9a-f]{2})+$/);
      assert.equal(h['x-client-serial'], new X509Certificate(pki.clients.valid.cert).serialNumber.toLowerCase().match(/../g)!.join(':'));
    });

    for (const [name, client] of [
      ['no certificate', undefined],
      ['an expired certificate', 'expired'],
      ['a certificate from a foreign CA', 'foreign'],
      ['a revoked certificate', 'revoked'],
      ['a certificate without clientAuth usage', 'wrongUsage'],
    ] as const) {
      test(`${name}: no handshake`, async () => {
        await assert.rejects(get('b.test', '/v1/health', { client: client ? pki.clients[client] : undefined }), (err: NodeJS.ErrnoException) => {
          assert.match(String(err.code ?? err.message), /ERR_SSL|ECONNRESET|EPIPE|socket hang up/i);
          return true;
        });
      });
    }

    test('auth: mtls maps the certificate to a principal by SAN (here unknown to the IAM store: no identity policy); an unmapped certificate gets 403', async () => {
      // The allowed case, with a principal and its identity policy in the IAM store: mtls-identity.test.ts.
      const res = await get('b.test', '/v1/me', { client: pki.clients.valid, headers: { 'x-client-principal': 'arn:aws:iam::123456789012:root' } });
      assert.equal(res.status, 403);
      assert.match(JSON.parse(res.body).Message, /^User: arn:aws:iam::123456789012:user\/client-1 is not authorized to perform: execute-api:Invoke/);
      const other = await issueCertificate(pki.ca, { commonName: 'nobody', usage: 'client' });
      const denied = await get('b.test', '/v1/me', { client: other });
      assert.equal(denied.status, 403);
      // Optional-mTLS domain without a certificate: the route needs one.
      assert.equal((await get('c.test', '/me')).status, 401);
    });

    test('curl with a client certificate succeeds; without one it fails', async () => {
      const files = await pki.write('curl-client', pki.clients.valid);
      const { stdout } = await run('curl', [...curlBase(), '--cert', files.cert, '--key', files.key, '-w', ' %{http_code}', `https://b.test:${port}/v1/health`]);
      assert.equal(stdout, '{"ok":true} 200');
      await assert.rejects(run('curl', [...curlBase(), `https://b.test:${port}/v1/health`]));
    });
  });

  describe('mutual TLS (optional)', () => {
    test('without a certificate the request is served; no identity header reaches the upstream', async () => {
      const res = await get('c.test', '/whoami', { headers: { 'x-client-subject': 'CN=forged' } });
      assert.equal(res.status, 200);
      assert.equal(seen.at(-1)!.headers['x-client-subject'], undefined);
    });
    test('a valid certificate is verified and forwarded; an invalid one is refused', async () => {
      assert.equal((await get('c.test', '/whoami', { client: pki.clients.valid })).status, 200);
      assert.equal(seen.at(-1)!.headers['x-client-subject'], 'CN=client-1,O=Pets');
      await assert.rejects(get('c.test', '/whoami', { client: pki.clients.foreign }));
    });
  });

  test('plain HTTP is redirected with 308, preserving method, path and query', async () => {
    const res = await request(gw.url, '/whoami?x=1&y=2', { method: 'POST', headers: { host: 'a.test' }, body: 'x' });
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, `https://a.test:${port}/whoami?x=1&y=2`);
    assert.equal(res.headers['strict-transport-security'], undefined);
  });

  test('a certificate swapped on disk serves new connections while old ones finish', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get('a.test', '/health', { agent });
      const oldFingerprint = first.cert.fingerprint256;
      const next = await issueCertificate(pki.ca, { commonName: 'a.test', dnsNames: ['a.test'], usage: 'server' });
      // Replace as certificate tools do: write beside, then rename over.
      await writeFile(pki.server.a.key + '.new', next.key);
      await writeFile(pki.server.a.cert + '.new', next.cert);
      await rename(pki.server.a.key + '.new', pki.server.a.key);
      await rename(pki.server.a.cert + '.new', pki.server.a.cert);
      const wanted = new X509Certificate(next.cert).fingerprint256;
      await eventually(async () => (await get('a.test', '/health')).cert.fingerprint256 === wanted, 10_000, 100);
      // The kept-alive connection still works, on the old certificate.
      const again = await get('a.test', '/health', { agent });
      assert.equal(again.status, 200);
      assert.equal(again.cert.fingerprint256, oldFingerprint);

      // An invalid file is rejected and the current certificate keeps serving.
      await writeFile(pki.server.a.cert, 'not a certificate');
      await gw.gateway.reloadCertificates();
      const still = await get('a.test', '/health');
      assert.equal(still.cert.fingerprint256, wanted);
      assert.equal(still.status, 200);
      await writeFile(pki.server.a.cert, next.cert);
    } finally {
      agent.destroy();
    }
  });
});
