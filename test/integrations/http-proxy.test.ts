// The HTTP proxy integration against real upstream servers: pass-through, header rules, path encoding,
// limits, timeouts, failures, aborts and connection reuse.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import http from 'node:http';
import { Agent, request } from 'undici';
import { createHttpProxyIntegration, type HttpProxyOptions } from '../../src/gateway/integrations/http-proxy.ts';
import { createUpstreamPools, type UpstreamPools } from '../../src/gateway/integrations/upstream-pools.ts';
import { HttpProxyIntegrationSchema } from '../../src/config/schema.ts';
import { createFakeClock } from '../../src/core/clock.ts';
import { header, rawRequest, startTestGateway, startUpstream, type TestGatewayOptions, type Upstream } from './harness.ts';

let pools: UpstreamPools;
let client: Agent;
const cleanups: Array<() => Promise<void>> = [];

before(() => {
  pools = createUpstreamPools();
  client = new Agent({ keepAliveTimeout: 100 });
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await client.close();
  await pools.close();
});

/** An echo upstream: answers with what it received. */
function echo(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.stringify({
      method: req.method,
      url: req.url,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

async function upstream(handler: http.RequestListener): Promise<Upstream> {
  const up = await startUpstream(handler);
  cleanups.push(() => up.close());
  return up;
}

async function gateway(
  url: string,
  extra: Partial<{ timeoutMs: number; connectTimeoutMs: number }> = {},
  opts: TestGatewayOptions & Partial<HttpProxyOptions> = {},
) {
  const settings = HttpProxyIntegrationSchema.parse({ type: 'http_proxy', url, ...extra });
  const integration = createHttpProxyIntegration(settings, {
    stageVariables: opts.stageVariables ?? {},
    pools: opts.pools ?? pools,
    maxRequestBodyBytes: opts.maxRequestBodyBytes ?? 10 * 1024 * 1024,
    clock: opts.clock,
  });
  const gw = await startTestGateway(integration, opts);
  cleanups.push(() => gw.close());
  return gw;
}

describe('pass-through', () => {
  test('GET: method, path, query and end-to-end headers reach the upstream; status and headers come back', async () => {
    const up = await upstream((req, res) => {
      res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; Path=/']);
      res.setHeader('X-Upstream', 'yes');
      res.setHeader('Cache-Control', 'no-store');
      res.writeHead(203);
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    const gw = await gateway(`${up.url}/v1/pets`);
    const r = await request(`${gw.url}/anything?limit=2&q=a%20b`, {
      dispatcher: client,
      headers: { authorization: 'Bearer t', 'x-api-key': 'k', 'user-agent': 'test-agent', accept: 'application/json' },
    });
    const body = (await r.body.json()) as { url: string; headers: Record<string, string> };
    assert.equal(r.statusCode, 203);
    assert.equal(body.url, '/v1/pets?limit=2&q=a%20b');
    assert.equal(body.headers.authorization, 'Bearer t');
    assert.equal(body.headers['x-api-key'], 'k');
    assert.equal(body.headers['user-agent'], 'test-agent');
    assert.equal(body.headers.host, `127.0.0.1:${up.port}`, 'Host is the upstream origin');
    assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
    assert.equal(r.headers['x-upstream'], 'yes');
    assert.equal(r.headers['cache-control'], 'no-store');
    // The gateway's own header, set before the integration ran, is kept.
    assert.match(String(r.headers['x-amzn-requestid']), /^00000000-/);
    const outcome = gw.outcomes[0];
    assert.equal(outcome.denial, undefined);
    assert.equal(outcome.ctx.integration.status, 203);
    assert.ok(outcome.ctx.integration.latency >= 0);
  });

  test('POST: the body is streamed through and counted; ANY routes proxy the real method', async () => {
    const up = await upstream(echo);
    const gw = await gateway(`${up.url}/echo`);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const r = await request(`${gw.url}/x`, {
        method,
        dispatcher: client,
        body: `hello ${method}`,
        headers: { 'content-type': 'text/plain' },
      });
      const body = (await r.body.json()) as { method: string; body: string; headers: Record<string, string> };
      assert.equal(body.method, method);
      assert.equal(body.body, `hello ${method}`);
      assert.equal(body.headers['content-type'], 'text/plain');
      assert.equal(body.headers['content-length'], String(`hello ${method}`.length));
    }
    assert.equal(gw.outcomes.at(-1)!.ctx.requestBodyLength, 'hello DELETE'.length);
  });

  test('a chunked request body is forwarded (re-chunked by the gateway)', async () => {
    const up = await upstream(echo);
    const gw = await gateway(`${up.url}/echo`);
    const r = await rawRequest(
      gw.port,
      'POST /x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    );
    const body = JSON.parse(r.body.includes('{') ? r.body.slice(r.body.indexOf('{'), r.body.lastIndexOf('}') + 1) : '{}');
    assert.equal(r.status, 200);
    assert.equal(body.body, 'hello world');
    // undici sends a body that has fully arrived with a Content-Length, otherwise chunked.
    assert.ok(body.headers['transfer-encoding'] === 'chunked' || body.headers['content-length'] === '11');
  });

  test('a upstream response without length is streamed to the client chunked', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      setTimeout(() => res.end('data: 2\n\n'), 20);
    });
    const gw = await gateway(up.url);
    const r = await request(gw.url, { dispatcher: client });
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(await r.body.text(), 'data: 1\n\ndata: 2\n\n');
    assert.equal(gw.outcomes[0].ctx.responseLength, 18);
  });
});

describe('headers', () => {
  test('hop-by-hop request headers, and the ones Connection lists, are not forwarded', async () => {
    const up = await upstream(echo);
    const gw = await gateway(`${up.url}/echo`);
    const r = await rawRequest(
      gw.port,
      'GET /x HTTP/1.1\r\nHost: gw.example:8080\r\nConnection: close, X-Hop-Custom\r\nX-Hop-Custom: secret\r\n' +
        'Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\n' +
        'Proxy-Authorization: Basic abc\r\nAuthorization: AWS4-HMAC-SHA256 x\r\nX-End-To-End: kept\r\n\r\n',
    );
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body.slice(r.body.indexOf('{'), r.body.lastIndexOf('}') + 1)) as { headers: Record<string, string> };
    for (const h of ['x-hop-custom', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']) {
      assert.equal(seen.headers[h], undefined, h);
    }
    assert.equal(seen.headers.connection, 'keep-alive', 'undici speaks keep-alive to the upstream itself');
    assert.equal(seen.headers['proxy-authorization'], 'Basic abc', 'end-to-end credentials are kept');
    assert.equal(seen.headers.authorization, 'AWS4-HMAC-SHA256 x');
    assert.equal(seen.headers['x-end-to-end'], 'kept');
  });

  test('hop-by-hop response headers, and the ones Connection lists, are not forwarded', async () => {
    const up = await upstream((_req, res) => {
      res.setHeader('Connection', 'keep-alive, X-Upstream-Hop');
      res.setHeader('X-Upstream-Hop', '1');
      res.setHeader('Keep-Alive', 'timeout=5');
      res.setHeader('Proxy-Connection', 'keep-alive');
      res.setHeader('Trailer', 'X-Checksum');
      res.setHeader('Upgrade', 'h2c');
      res.setHeader('X-Kept', 'yes');
      res.end('ok'); // chunked (Node refuses Trailer with a Content-Length)
    });
    const gw = await gateway(up.url);
    const r = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    assert.equal(r.status, 200);
    for (const h of ['x-upstream-hop', 'keep-alive', 'proxy-connection', 'trailer', 'upgrade']) {
      assert.deepEqual(header(r, h), [], h);
    }
    assert.deepEqual(header(r, 'connection'), ['close'], "the client's own connection handling");
    assert.deepEqual(header(r, 'x-kept'), ['yes']);
    assert.deepEqual(header(r, 'transfer-encoding'), ['chunked'], "the gateway's own framing");
    assert.equal(r.body, '2\r\nok\r\n0\r\n\r\n');
  });

  test('a header the Connection header lists is dropped wherever it stands, and Content-Length still frames the answer', async () => {
    // Node's server writes headers in the order they were set: the listed ones before and after Connection.
    const up = await upstream((_req, res) => {
      res.setHeader('X-Before', '1');
      res.setHeader('Connection', 'keep-alive');
      res.setHeader('Connection', 'keep-alive, x-before, X-After');
      res.setHeader('X-After', '2');
      res.setHeader('X-Kept', 'yes');
      res.setHeader('Content-Length', '2');
      res.end('ok');
    });
    const gw = await gateway(up.url);
    const r = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    assert.equal(r.status, 200);
    assert.deepEqual(header(r, 'x-before'), []);
    assert.deepEqual(header(r, 'x-after'), []);
    assert.deepEqual(header(r, 'x-kept'), ['yes']);
    assert.deepEqual(header(r, 'content-length'), ['2']);
    assert.deepEqual(header(r, 'transfer-encoding'), []);
    assert.equal(r.body, 'ok');
  });

  test('X-Forwarded-For is extended, X-Forwarded-Proto and -Host are set and cannot be spoofed', async () => {
    const up = await upstream(echo);
    const gw = await gateway(`${up.url}/echo`);
    const r = await request(`${gw.url}/x`, {
      dispatcher: client,
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', host: 'api.example.com' },
    });
    const seen = (await r.body.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], 'api.example.com');

    const r2 = await request(`${gw.url}/x`, { dispatcher: client });
    const seen2 = (await r2.body.json()) as { headers: Record<string, string> };
    assert.equal(seen2.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen2.headers['x-forwarded-host'], `127.0.0.1:${gw.port}`);
  });

  test('headers a stage queued in ctx.gatewayHeaders (RateLimit) reach the client beside the upstream headers', async () => {
    const up = await upstream((_req, res) => {
      res.setHeader('x-up', '1');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('x');
    });
    const proxy = createHttpProxyIntegration(HttpProxyIntegrationSchema.parse({ type: 'http_proxy', url: up.url }), {
      stageVariables: {},
      pools,
      maxRequestBodyBytes: 1024,
    });
    const gw = await startTestGateway((ctx, done) => {
      ctx.gatewayHeaders.push('RateLimit-Policy', '"burst";q=2;w=2', 'RateLimit', '"burst";r=1;t=1');
      proxy(ctx, done);
    });
    cleanups.push(() => gw.close());
    const r = await request(gw.url, { dispatcher: client });
    assert.equal(await r.body.text(), 'x');
    assert.equal(r.headers['ratelimit-policy'], '"burst";q=2;w=2');
    assert.equal(r.headers.ratelimit, '"burst";r=1;t=1');
    assert.equal(r.headers['x-up'], '1');
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    assert.match(String(r.headers['x-amzn-requestid']), /^00000000-/);
  });

  test("the gateway's request-id headers win: the upstream's copies arrive as x-amzn-Remapped-*", async () => {
    const up = await upstream((_req, res) => {
      res.setHeader('x-amzn-RequestId', 'from-upstream');
      res.setHeader('X-Amz-Apigw-Id', 'upstream-ext');
      res.setHeader('x-amzn-other', 'kept');
      res.end('x');
    });
    const gw = await gateway(up.url);
    const r = await request(gw.url, { dispatcher: client });
    await r.body.text();
    assert.match(String(r.headers['x-amzn-requestid']), /^00000000-/);
    assert.equal(r.headers['x-amzn-remapped-x-amzn-requestid'], 'from-upstream');
    assert.equal(r.headers['x-amzn-remapped-x-amz-apigw-id'], 'upstream-ext');
    assert.equal(r.headers['x-amzn-other'], 'kept');
  });

  test('response header names keep their spelling and meaning from response to response (names the gateway remembers)', async () => {
    // Raw responses, so the exact bytes of each name are the upstream's. X-Abzc and X-Qbzc share length,
    // first, middle and last byte; the casings of one name must each come back as sent.
    const heads = [
      'X-Abzc: one\r\nContent-Length: 1',
      'X-Qbzc: two\r\nCONTENT-LENGTH: 1',
      'x-abzc: three\r\nX-AMZN-REQUESTID: up\r\ncontent-length: 1',
      'X-ABZC: four\r\nKEEP-ALIVE: timeout=5\r\nConnection: keep-alive, X-Qbzc\r\nX-Qbzc: hidden\r\nContent-Length: 1',
      'X-Qbzc: five\r\nContent-Length: 1',
    ];
    let n = 0;
    const server = net.createServer((socket) => {
      socket.on('data', () => socket.write(`HTTP/1.1 200 OK\r\n${heads[n++ % heads.length]}\r\n\r\nx`));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const gw = await gateway(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    const names = async () => {
      const r = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
      assert.equal(r.body, 'x');
      return r.head.split('\r\n').slice(1).map((l) => l.slice(0, l.indexOf(':')) + '=' + l.slice(l.indexOf(':') + 1).trim())
        .filter((l) => !/^(x-amzn-RequestId|Date|Connection)=/.test(l));
    };
    for (let round = 0; round < 2; round++) {
      assert.deepEqual(await names(), ['X-Abzc=one', 'Content-Length=1']);
      assert.deepEqual(await names(), ['X-Qbzc=two', 'CONTENT-LENGTH=1']);
      assert.deepEqual(await names(), ['x-abzc=three', 'x-amzn-Remapped-X-AMZN-REQUESTID=up', 'content-length=1']);
      assert.deepEqual(await names(), ['X-ABZC=four', 'Content-Length=1']);
      assert.deepEqual(await names(), ['X-Qbzc=five', 'Content-Length=1']);
    }
  });
});

describe('path parameters and stage variables', () => {
  test('a %2F or .. inside a parameter cannot change the upstream path', async () => {
    const up = await upstream(echo);
    const gw = await gateway(`${up.url}/items/{id}/view`, {}, { route: '/items/{id}' });
    const url = async (path: string) => {
      const r = await request(`${gw.url}${path}`, { dispatcher: client });
      const body = (await r.body.json()) as { url?: string; type?: string };
      return { status: r.statusCode, url: body.url, type: body.type };
    };
    assert.deepEqual(await url('/items/a%2Fb'), { status: 200, url: '/items/a%2Fb/view', type: undefined });
    assert.deepEqual(await url('/items/..%2F..%2Fadmin'), { status: 200, url: '/items/..%2F..%2Fadmin/view', type: undefined });
    assert.deepEqual(await url('/items/a%20b%3F'), { status: 200, url: '/items/a%20b%3F/view', type: undefined });
    const before = up.requests;
    // (sent raw: a URL-parsing client would resolve %2E%2E itself)
    const raw = await rawRequest(gw.port, 'GET /items/%2E%2E HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    assert.equal(raw.status, 400);
    assert.match(raw.body, /BAD_REQUEST/);
    assert.equal(up.requests, before, 'refused before the upstream');
  });

  test('greedy {proxy}: slashes kept, every piece encoded, dot segments refused', async () => {
    const up = await upstream(echo);
    const gw = await gateway(`${up.url}/base/{proxy}`, {}, { route: '/files/{proxy+}' });
    const r = await request(`${gw.url}/files/a/b%20c/d.txt?x=1`, { dispatcher: client });
    assert.equal(((await r.body.json()) as { url: string }).url, '/base/a/b%20c/d.txt?x=1');
    const before = up.requests;
    const bad = await request(`${gw.url}/files/a%2F..%2F..%2Fadmin`, { dispatcher: client });
    assert.equal(bad.statusCode, 400);
    await bad.body.text();
    assert.equal(up.requests, before);
  });

  test('stage variables select the upstream and path', async () => {
    const up = await upstream(echo);
    const gw = await gateway('${stageVariables.backend}/${stageVariables.version}/{id}', {}, {
      route: '/pets/{id}',
      stageVariables: { backend: up.url, version: 'v2' },
    });
    const r = await request(`${gw.url}/pets/42`, { dispatcher: client });
    assert.equal(((await r.body.json()) as { url: string }).url, '/v2/42');
  });
});

describe('limits', () => {
  test('a Content-Length above the limit is refused before the upstream is contacted', async () => {
    const up = await upstream(echo);
    const gw = await gateway(up.url, {}, { maxRequestBodyBytes: 1000 });
    const r = await request(gw.url, { method: 'POST', dispatcher: client, body: Buffer.alloc(5000) });
    assert.equal(r.statusCode, 413);
    assert.equal(((await r.body.json()) as { type: string }).type, 'REQUEST_TOO_LARGE');
    assert.equal(r.headers.connection, 'close');
    assert.equal(up.connections, 0);
    // Exactly at the limit passes.
    const ok = await request(gw.url, { method: 'POST', dispatcher: client, body: Buffer.alloc(1000, 120) });
    assert.equal(ok.statusCode, 200);
    assert.equal(((await ok.body.json()) as { body: string }).body.length, 1000);
  });

  test('a chunked body crossing the limit aborts the upstream request and gets 413', async () => {
    let completed = 0;
    let aborted = 0;
    const up = await upstream((req, res) => {
      req.on('end', () => {
        completed++;
        res.end('ok');
      });
      req.on('error', () => {});
      req.on('close', () => {
        if (!req.complete) aborted++;
      });
      req.resume();
    });
    const gw = await gateway(up.url, {}, { maxRequestBodyBytes: 100_000 });
    const socket = net.connect(gw.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.write('POST / HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n');
    const piece = Buffer.alloc(10_000, 98);
    const timer = setInterval(() => {
      if (!socket.destroyed) socket.write(`${piece.length.toString(16)}\r\n${piece.toString('latin1')}\r\n`);
    }, 2);
    const outcome = await gw.next();
    await once(socket, 'close');
    clearInterval(timer);
    const text = Buffer.concat(chunks).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /connection: close/i);
    assert.equal(outcome.denial?.type, 'REQUEST_TOO_LARGE');
    assert.ok(outcome.ctx.requestBodyLength > 100_000);
    assert.equal(completed, 0, 'the upstream never saw a complete body');
    while (up.requests > 0 && aborted === 0) await new Promise((r) => setTimeout(r, 5));
  });
});

describe('timeouts and failures', () => {
  /**
   * A real TCP upstream that keeps connections alive but resets each connection when a second request
   * arrives on it: the race of an upstream idle timeout closing a connection the pool is reusing.
   */
  async function resettingUpstream(): Promise<{ url: string; requests: () => number; resets: () => number }> {
    let requests = 0;
    let resets = 0;
    const server = net.createServer((socket) => {
      let served = 0;
      let buffered = '';
      socket.on('data', (d) => {
        buffered += d.toString('latin1');
        let end: number;
        while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
          const head = buffered.slice(0, end);
          buffered = buffered.slice(end + 4);
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          buffered = buffered.slice(length);
          requests++;
          if (served++ === 1) {
            resets++;
            return void socket.resetAndDestroy();
          }
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=60\r\n\r\nok');
        }
      });
      socket.on('error', () => {});
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(async () => {
      server.close();
    });
    return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, requests: () => requests, resets: () => resets };
  }

  test('an idempotent request whose kept-alive upstream connection is reset is sent once more on a new one', async () => {
    const up = await resettingUpstream();
    const gw = await gateway(up.url, {}, { pools: createUpstreamPools() });
    for (const method of ['GET', 'GET', 'DELETE'] as const) {
      const r = await request(gw.url, { method, dispatcher: client });
      assert.equal(r.statusCode, 200, `${method} answered from a fresh connection`);
      assert.equal(await r.body.text(), 'ok');
    }
    // Which requests land on a reused connection is the pool's choice; every reset was retried.
    assert.ok(up.resets() >= 1, 'at least one request met a reset connection');
    assert.equal(up.requests(), 3 + up.resets());
  });

  test('a POST is never retried: the reset answers INTEGRATION_FAILURE', async () => {
    const up = await resettingUpstream();
    const gw = await gateway(up.url, {}, { pools: createUpstreamPools() });
    const first = await request(gw.url, { method: 'POST', body: 'a', dispatcher: client });
    assert.equal(first.statusCode, 200);
    await first.body.text();
    const second = await request(gw.url, { method: 'POST', body: 'b', dispatcher: client });
    assert.equal(second.statusCode, 504, "AWS's INTEGRATION_FAILURE status");
    assert.equal(((await second.body.json()) as { type: string }).type, 'INTEGRATION_FAILURE');
    assert.equal(up.requests(), 2, 'the upstream saw each POST once');
  });

  test('an upstream that never answers gets INTEGRATION_TIMEOUT; the upstream sees the request reset', async () => {
    let upstreamClosed: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const up = await upstream((req) => {
      req.socket.on('close', () => upstreamClosed());
    });
    const gw = await gateway(up.url, { timeoutMs: 200 });
    const r = await request(gw.url, { dispatcher: client });
    const body = (await r.body.json()) as { type: string; message: string };
    assert.equal(r.statusCode, 504);
    assert.equal(body.type, 'INTEGRATION_TIMEOUT');
    assert.equal(body.message, 'Endpoint request timed out');
    const { ctx } = gw.outcomes[0];
    assert.equal(ctx.integration.latency, -1);
    assert.equal(ctx.integration.error, 'Execution failed due to a timeout error');
    await closed;
  });

  test('timeouts are per request: answered requests pass, unanswered ones time out, in any order', async () => {
    const up = await upstream((req, res) => {
      if (Number(req.url!.slice(1)) % 2 === 0) res.end(`answered ${req.url}`);
      // odd paths are never answered
    });
    const gw = await gateway(`${up.url}/{id}`, { timeoutMs: 150 }, { route: '/{id}' });
    const statuses = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(async (i) => {
        const r = await request(`${gw.url}/${i}`, { dispatcher: client });
        await r.body.text();
        return r.statusCode;
      }),
    );
    assert.deepEqual(statuses, [504, 200, 504, 200, 504, 200]);
    // And again, once the queue has emptied and its timer stopped.
    const r = await request(`${gw.url}/7`, { dispatcher: client });
    await r.body.text();
    assert.equal(r.statusCode, 504);
  });

  test('a closed port gets INTEGRATION_FAILURE with the cause in the private detail', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const gw = await gateway(`http://127.0.0.1:${port}/x`);
    const r = await request(gw.url, { dispatcher: client });
    const body = (await r.body.json()) as { type: string; message: string };
    assert.equal(r.statusCode, 504);
    assert.equal(body.type, 'INTEGRATION_FAILURE');
    assert.equal(body.message, 'Network error communicating with endpoint');
    const { ctx, denial } = gw.outcomes[0];
    assert.match(denial!.detail!, /ECONNREFUSED/);
    assert.equal(ctx.integration.latency, -1);
    assert.equal(ctx.integration.status, 0);
  });

  test('a host name that does not resolve gets INTEGRATION_FAILURE', async () => {
    // .invalid never resolves (RFC 6761); timeoutMs bounds the test should a resolver hang instead.
    const gw = await gateway('http://portcullis-test.invalid/x', { timeoutMs: 5000 });
    const r = await request(gw.url, { dispatcher: client });
    const body = (await r.body.json()) as { type: string };
    assert.equal(r.statusCode, 504);
    assert.ok(body.type === 'INTEGRATION_FAILURE' || body.type === 'INTEGRATION_TIMEOUT', body.type);
    if (body.type === 'INTEGRATION_FAILURE') assert.match(gw.outcomes[0].denial!.detail!, /ENOTFOUND|EAI_AGAIN/);
  });

  test('an upstream that closes the connection before answering gets INTEGRATION_FAILURE', async () => {
    const up = await upstream((req) => req.socket.destroy());
    const gw = await gateway(up.url);
    const r = await request(gw.url, { dispatcher: client });
    assert.equal(r.statusCode, 504);
    assert.equal(((await r.body.json()) as { type: string }).type, 'INTEGRATION_FAILURE');
  });

  test('an upstream failing while the client is still uploading: 504 and Connection: close', async () => {
    const up = await upstream((req) => {
      req.once('data', () => req.socket.destroy());
    });
    const gw = await gateway(up.url);
    const socket = net.connect(gw.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.write('POST / HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000000\r\n\r\n');
    socket.write(Buffer.alloc(100_000, 97));
    await once(socket, 'close');
    const text = Buffer.concat(chunks).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 504 /);
    assert.match(text, /connection: close/i);
  });

  test('an upstream answering before the upload ends: its response is relayed with Connection: close', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain', 'content-length': 6 });
      res.end('denied');
    });
    const gw = await gateway(up.url);
    const socket = net.connect(gw.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.write('PUT / HTTP/1.1\r\nHost: gw\r\nContent-Length: 5000000\r\n\r\n');
    socket.write(Buffer.alloc(200_000, 97));
    await once(socket, 'close');
    const text = Buffer.concat(chunks).toString('latin1');
    assert.match(text, /^HTTP\/1\.1 401 /);
    assert.match(text, /connection: close/i);
    assert.match(text, /denied$/);
  });

  test('an upstream stalling mid-body is cut off by the body timeout (truncated response)', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('partial');
    });
    const gw = await gateway(up.url, { timeoutMs: 150 });
    const r = await request(gw.url, { dispatcher: client });
    assert.equal(r.statusCode, 200);
    await assert.rejects(r.body.text());
    const { ctx } = await waitOutcome(gw, 0);
    assert.match(ctx.integration.error, /UND_ERR_BODY_TIMEOUT/);
  });

  test('an upstream reset mid-body truncates the client response', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-length': 1_000_000 });
      res.write(Buffer.alloc(100_000, 97), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const gw = await gateway(up.url);
    const r = await request(gw.url, { dispatcher: client });
    assert.equal(r.statusCode, 200);
    await assert.rejects(r.body.arrayBuffer());
    const { ctx, denial } = await waitOutcome(gw, 0);
    assert.equal(denial, undefined);
    assert.notEqual(ctx.integration.error, '');
  });

  test('a client that disconnects makes the upstream see the request aborted', async () => {
    let received: () => void;
    const gotRequest = new Promise<void>((r) => (received = r));
    let upstreamClosed: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const up = await upstream((req, res) => {
      res.on('close', () => upstreamClosed());
      received();
    });
    const gw = await gateway(up.url);
    const socket = net.connect(gw.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nHost: gw\r\n\r\n');
    await gotRequest;
    socket.destroy();
    await closed;
    const { ctx, denial } = await waitOutcome(gw, 0);
    assert.equal(denial, undefined);
    assert.equal(ctx.integration.error, 'Client closed the connection');
  });

  test('a client that disconnects mid-download stops the upstream transfer', async () => {
    let upstreamClosed: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const up = await upstream((_req, res) => {
      res.on('close', () => upstreamClosed());
      res.writeHead(200, { 'content-length': 1_000_000_000 });
      const chunk = Buffer.alloc(65_536);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const gw = await gateway(up.url);
    const r = await request(gw.url, { dispatcher: client });
    let got = 0;
    for await (const c of r.body) {
      got += (c as Buffer).length;
      if (got > 1_000_000) break; // destroys the client connection
    }
    await closed;
  });
});

describe('methods, statuses and connections', () => {
  test('HEAD: upstream headers, no body', async () => {
    const up = await upstream((req, res) => {
      res.writeHead(200, { 'content-length': '1234', 'x-method': req.method! });
      res.end();
    });
    const gw = await gateway(up.url);
    const r = await request(gw.url, { method: 'HEAD', dispatcher: client });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-length'], '1234');
    assert.equal(r.headers['x-method'], 'HEAD');
    assert.equal(await r.body.text(), '');
  });

  test('204 and 304 carry no body', async () => {
    const up = await upstream((req, res) => {
      res.writeHead(req.url === '/a' ? 204 : 304, { etag: '"x"' });
      res.end();
    });
    for (const path of ['/a', '/b']) {
      const gw = await gateway(`${up.url}${path}`);
      const r = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
      assert.equal(r.status, path === '/a' ? 204 : 304);
      assert.equal(r.body, '');
      assert.deepEqual(header(r, 'etag'), ['"x"']);
      assert.deepEqual(header(r, 'transfer-encoding'), []);
    }
  });

  test('1xx informational responses are not forwarded', async () => {
    const up = await upstream((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.end('final');
    });
    const gw = await gateway(up.url);
    const r = await rawRequest(gw.port, 'GET / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.text, /103/);
    assert.match(r.text, /final/);
  });

  test('keep-alive: sequential requests reuse one upstream connection', async () => {
    const up = await upstream(echo);
    const gw = await gateway(up.url);
    for (let i = 0; i < 5; i++) {
      const r = await request(`${gw.url}/${i}`, { dispatcher: client });
      await r.body.text();
    }
    assert.equal(up.requests, 5);
    assert.equal(up.connections, 1);
  });

  test('a redeploy (a new integration on the same pools) keeps the warm connection', async () => {
    const up = await upstream(echo);
    const first = await gateway(up.url);
    await (await request(first.url, { dispatcher: client })).body.text();
    const second = await gateway(`${up.url}/other`);
    await (await request(second.url, { dispatcher: client })).body.text();
    assert.equal(up.connections, 1);
  });

  test('latency comes from the injected clock', async () => {
    const clock = createFakeClock(1_000);
    const up = await upstream((_req, res) => {
      clock.advance(37);
      res.end('x');
    });
    const gw = await gateway(up.url, {}, { clock });
    await (await request(gw.url, { dispatcher: client })).body.text();
    const { ctx } = await waitOutcome(gw, 0);
    assert.equal(ctx.integration.latency, 37);
  });

  test('a client already gone is not proxied', async () => {
    const up = await upstream(echo);
    const settings = HttpProxyIntegrationSchema.parse({ type: 'http_proxy', url: up.url });
    const integration = createHttpProxyIntegration(settings, { stageVariables: {}, pools, maxRequestBodyBytes: 10 });
    const ctx = { res: { destroyed: true }, integration: { status: 0, latency: -1, error: '', requestId: '' } };
    const outcomes: unknown[] = [];
    integration(ctx as never, (_ctx, denial) => outcomes.push(denial));
    assert.deepEqual(outcomes, [undefined], 'done is called once, at once, with no denial');
    assert.equal(up.requests, 0);
  });
});

async function waitOutcome(gw: { outcomes: unknown[]; next(): Promise<unknown> }, index: number) {
  while (gw.outcomes.length <= index) await gw.next();
  return gw.outcomes[index] as Awaited<ReturnType<Awaited<ReturnType<typeof startTestGateway>>['next']>>;
}
