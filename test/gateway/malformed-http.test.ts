// Malformed and hostile HTTP gets the right 4xx, never reaches a route it should not, and never
// crashes the process: raw bytes over a socket, as an attacker would send them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rawRequest, request, startServer, startTestGateway, statusOf, type TestGateway } from '../helpers/gateway.ts';

describe('malformed HTTP', () => {
  let gw: TestGateway;
  let upstream: Awaited<ReturnType<typeof startServer>>;
  const upstreamPaths: string[] = [];

  before(async () => {
    upstream = await startServer((req, res) => {
      upstreamPaths.push(req.url!);
      res.end('ok');
    });
    gw = await startTestGateway({
      apis: [
        {
          name: 'app',
          stages: { prod: { variables: { up: upstream.url } } },
          routes: [
            { method: 'ANY', path: '/public/{proxy+}', integration: { type: 'http_proxy', url: '${stageVariables.up}/public/{proxy}' } },
            { method: 'GET', path: '/hello', integration: { type: 'mock', body: 'hi' } },
            { method: 'POST', path: '/echo', integration: { type: 'http_proxy', url: '${stageVariables.up}/echo' } },
          ],
        },
      ],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const send = (lines: string) => rawRequest(gw.port, lines);

  test('invalid percent-encoding is 400', async () => {
    const raw = await send('GET /prod/public/%zz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(statusOf(raw), 400);
    assert.match(raw, /x-amzn-ErrorType: BadRequestException/i);
    const bad8 = await send('GET /prod/public/%C3%28 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(statusOf(bad8), 400);
  });

  test('dot segments, plain or encoded, are refused before routing', async () => {
    upstreamPaths.length = 0;
    for (const p of ['/prod/public/../hello', '/prod/public/%2e%2e/secret', '/prod/public/.%2E/x', '/prod/public/./x', '/prod/public/a/%2E%2e']) {
      const raw = await send(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(statusOf(raw), 400, p);
    }
    assert.deepEqual(upstreamPaths, []);
  });

  test('a 100 KB header is refused with 431', async () => {
    const raw = await send(`GET /prod/hello HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
    assert.equal(statusOf(raw), 431);
  });

  test('headers over the 10,240-byte limit are 413 REQUEST_TOO_LARGE', async () => {
    const raw = await send(`GET /prod/hello HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(12 * 1024)}\r\n\r\n`);
    assert.equal(statusOf(raw), 413);
    assert.match(raw, /RequestTooLongException/);
  });

  test('a bare CR in the request line or a header is 400', async () => {
    assert.equal(statusOf(await send('GET /prod/hello\rX HTTP/1.1\r\nHost: x\r\n\r\n')), 400);
    assert.equal(statusOf(await send('GET /prod/hello HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n')), 400);
  });

  test('Content-Length together with Transfer-Encoding is 400 (no smuggling)', async () => {
    upstreamPaths.length = 0;
    const raw = await send(
      'POST /prod/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /prod/public/smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    assert.equal(statusOf(raw), 400);
    assert.ok(!upstreamPaths.includes('/public/smuggled'));
  });

  test('duplicate Content-Length with different values is 400', async () => {
    const raw = await send('POST /prod/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab');
    assert.equal(statusOf(raw), 400);
  });

  test('an absolute-form target is 400 and reaches no route', async () => {
    const raw = await send('GET http://evil.example/prod/hello HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(statusOf(raw), 400);
    const star = await send('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(statusOf(star), 400);
  });

  test('HTTP/1.1 without Host is 400', async () => {
    assert.equal(statusOf(await send('GET /prod/hello HTTP/1.1\r\n\r\n')), 400);
  });

  test('a URI over the limit is 414', async () => {
    const raw = await send(`GET /prod/hello?${'q'.repeat(11_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.equal(statusOf(raw), 414);
  });

  test('a body over the size limit is 413 and never reaches the upstream', async () => {
    upstreamPaths.length = 0;
    const raw = await send(`POST /prod/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${11 * 1024 * 1024}\r\n\r\nabc`);
    assert.equal(statusOf(raw), 413);
    assert.deepEqual(upstreamPaths, []);
  });

  test('garbage is answered 400 and the gateway keeps serving', async () => {
    assert.equal(statusOf(await send('\x00\x01\x02garbage\r\n\r\n')), 400);
    assert.equal(statusOf(await send('GET /prod/hello HTTP/9.9\r\nHost: x\r\n\r\n')) >= 400, true);
    const ok = await request(gw.url, '/prod/hello');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'hi');
  });
});
