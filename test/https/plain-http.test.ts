// The plain HTTP listener: --http-mode refuse | redirect | serve, and X-Forwarded-For / -Proto honoured
// only from trusted proxies (identity.sourceIp, aws:SecureTransport, HSTS).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createPki } from '../helpers/pki.ts';

function definition(upstream: string, trustedProxies: string[]) {
  return {
    settings: { trustedProxies, accessLog: { format: '$context.identity.sourceIp $context.secureTransport $context.status $context.requestId' } },
    apis: [
      {
        name: 'pets',
        basePath: '/pets-api',
        stages: { prod: {} },
        routes: [{ method: 'ANY', path: '/echo', integration: { type: 'http_proxy', url: `${upstream}/echo` } }],
      },
    ],
  };
}

/** The first three fields of the newest access-log line, once it is written. */
async function lastLog(gw: TestGateway, count = 1): Promise<string> {
  await eventually(() => gw.logLines.length >= count);
  return gw.logLines.at(-1)!.split(' ').slice(0, 3).join(' ');
}

describe('plain HTTP listener', () => {
  let upstream: Awaited<ReturnType<typeof startServer>>;
  const seen: Array<Record<string, string | string[] | undefined>> = [];
  const gateways: TestGateway[] = [];
  before(async () => {
    upstream = await startServer((req, res) => {
      seen.push(req.headers);
      res.end('ok');
    });
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await upstream.close();
  });
  const start = async (trusted: string[], httpMode: 'redirect' | 'refuse' | 'serve') => {
    const g = await startTestGateway(definition(upstream.url, trusted), { httpMode });
    gateways.push(g);
    return g;
  };

  test('refuse: plain HTTP gets 403 Forbidden; https from a trusted proxy is served with HSTS', async () => {
    const gw = await start(['127.0.0.1/32'], 'refuse');
    const plain = await request(gw.url, '/pets-api/prod/echo');
    assert.equal(plain.status, 403);
    assert.equal(JSON.parse(plain.body).message, 'Forbidden');
    assert.equal(plain.headers['x-amzn-errortype'], 'ForbiddenException');
    const proxied = await request(gw.url, '/pets-api/prod/echo', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7, 203.0.113.5' } });
    assert.equal(proxied.status, 200);
    assert.equal(proxied.headers['strict-transport-security'], 'max-age=31536000');
    assert.equal(seen.at(-1)!['x-forwarded-proto'], 'https');
    assert.equal(await lastLog(gw, 2), '203.0.113.5 true 200');
  });

  test('forwarded headers from an untrusted peer are ignored', async () => {
    const gw = await start(['10.0.0.0/8'], 'refuse');
    const res = await request(gw.url, '/pets-api/prod/echo', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.5' } });
    assert.equal(res.status, 403);
    assert.equal(await lastLog(gw), '127.0.0.1 false 403');
  });

  test('redirect without an HTTPS listener targets port 443; serve serves (insecure)', async () => {
    const redirect = await start([], 'redirect');
    const r = await request(redirect.url, '/pets-api/prod/echo?q=1', { method: 'PUT', headers: { host: 'api.example.com:8080' }, body: 'x' });
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, 'https://api.example.com/pets-api/prod/echo?q=1');
    const serve = await start([], 'serve');
    const s = await request(serve.url, '/pets-api/prod/echo', { headers: { 'x-forwarded-for': '203.0.113.5' } });
    assert.equal(s.status, 200);
    assert.equal(s.headers['strict-transport-security'], undefined);
    assert.equal(await lastLog(serve), '127.0.0.1 false 200');
  });
});

describe('aws:SecureTransport', () => {
  test('is true over HTTPS and from a trusted proxy that says https, false over plain HTTP', async () => {
    const upstream = await startServer((_req, res) => res.end('ok'));
    const pki = await createPki(await mkdtemp(join(tmpdir(), 'portcullis-st-')));
    const def = definition(upstream.url, ['127.0.0.1/32']) as ReturnType<typeof definition> & Record<string, unknown>;
    const api = def.apis[0] as Record<string, unknown>;
    api.resourcePolicy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
        { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ],
    };
    def.domains = [{ name: 'a.test', certificate: pki.server.a, basePathMappings: [{ api: 'pets', stage: 'prod' }] }];
    const gw = await startTestGateway(def, { httpsListen: { host: '127.0.0.1', port: 0 }, httpMode: 'serve' });
    try {
      const plain = await request(gw.url, '/pets-api/prod/echo');
      assert.equal(plain.status, 403);
      assert.match(JSON.parse(plain.body).Message, /with an explicit deny$/);
      const proxied = await request(gw.url, '/pets-api/prod/echo', { headers: { 'x-forwarded-proto': 'https' } });
      assert.equal(proxied.status, 200);
      const secure = await new Promise<number>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port: new URL(gw.gateway.httpsUrl!).port, path: '/echo', servername: 'a.test', headers: { host: 'a.test' }, ca: pki.ca.cert, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
      assert.equal(secure, 200);
    } finally {
      await gw.close();
      await upstream.close();
      await rm(pki.dir, { recursive: true, force: true });
    }
  });
});
