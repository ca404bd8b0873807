// The plain HTTP listener: --http-mode refuse | redirect | serve, and X-Forwarded-For / -Proto honoured
// only from trusted proxies (identity.sourceIp, aws:SecureTransport, HSTS).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

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
