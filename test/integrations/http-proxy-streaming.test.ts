// 100 MB through the HTTP proxy each way without buffering: client, gateway and upstream share this
// process, so resident memory growing by anything near 100 MB would mean someone buffered the body.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { Agent, request } from 'undici';
import { createHttpProxyIntegration } from '../../src/gateway/integrations/http-proxy.ts';
import { createUpstreamPools, type UpstreamPools } from '../../src/gateway/integrations/upstream-pools.ts';
import { HttpProxyIntegrationSchema } from '../../src/config/schema.ts';
import { byteChunks, startTestGateway, startUpstream, watchRss, type TestGateway, type Upstream } from './harness.ts';

const SIZE = 100 * 1024 * 1024;
/** Well under the 100 MB a buffered body would cost (three hops' socket buffers and garbage fit). */
const MAX_GROWTH_MB = 60;

let pools: UpstreamPools;
let client: Agent;
let up: Upstream;
let gw: TestGateway;

before(async () => {
  pools = createUpstreamPools();
  client = new Agent();
  up = await startUpstream((req, res) => {
    if (req.method === 'POST') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(JSON.stringify({ received: n })));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SIZE });
    Readable.from(byteChunks(SIZE)).pipe(res);
  });
  const settings = HttpProxyIntegrationSchema.parse({ type: 'http_proxy', url: up.url });
  gw = await startTestGateway(
    createHttpProxyIntegration(settings, { stageVariables: {}, pools, maxRequestBodyBytes: 2 * SIZE }),
  );
});
after(async () => {
  await gw.close();
  await up.close();
  await client.close();
  await pools.close();
});

test('a 100 MB chunked upload streams through', async () => {
  const rss = watchRss();
  const r = await request(gw.url, { method: 'POST', dispatcher: client, body: Readable.from(byteChunks(SIZE)) });
  const body = (await r.body.json()) as { received: number };
  const growth = rss.stop();
  assert.equal(r.statusCode, 200);
  assert.equal(body.received, SIZE);
  assert.equal(gw.outcomes.at(-1)!.ctx.requestBodyLength, SIZE);
  assert.ok(growth < MAX_GROWTH_MB, `rss grew ${growth.toFixed(1)} MB`);
});

test('a 100 MB upload with Content-Length streams through', async () => {
  const rss = watchRss();
  const r = await request(gw.url, {
    method: 'POST',
    dispatcher: client,
    headers: { 'content-length': String(SIZE) },
    body: Readable.from(byteChunks(SIZE)),
  });
  const body = (await r.body.json()) as { received: number };
  const growth = rss.stop();
  assert.equal(body.received, SIZE);
  assert.ok(growth < MAX_GROWTH_MB, `rss grew ${growth.toFixed(1)} MB`);
});

test('a 100 MB download streams through', async () => {
  const rss = watchRss();
  const r = await request(gw.url, { dispatcher: client });
  let n = 0;
  for await (const chunk of r.body) n += (chunk as Buffer).length;
  const growth = rss.stop();
  assert.equal(r.statusCode, 200);
  assert.equal(n, SIZE);
  assert.equal(gw.outcomes.at(-1)!.ctx.responseLength, SIZE);
  assert.ok(growth < MAX_GROWTH_MB, `rss grew ${growth.toFixed(1)} MB`);
});

/** Waits until a growing counter stops moving (it is a wait for a condition, not a timing assertion). */
async function settled(read: () => number): Promise<number> {
  let last = -1;
  let still = 0;
  while (still < 4) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}

test('backpressure: an upstream that stops reading stalls the client upload', async () => {
  let paused: http.IncomingMessage | undefined;
  const slow = await startUpstream((req, res) => {
    paused = req;
    req.pause();
    req.on('end', () => res.end('done'));
  });
  const settings = HttpProxyIntegrationSchema.parse({ type: 'http_proxy', url: slow.url });
  const g = await startTestGateway(createHttpProxyIntegration(settings, { stageVariables: {}, pools, maxRequestBodyBytes: 2 * SIZE }));
  const socket = net.connect(g.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`POST / HTTP/1.1\r\nHost: gw\r\nContent-Length: ${SIZE}\r\n\r\n`);
  const chunk = Buffer.alloc(65_536, 97);
  let sent = 0;
  const pump = () => {
    while (sent < SIZE && !socket.destroyed) {
      sent += chunk.length;
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
  };
  pump();
  const stalledAt = await settled(() => sent);
  assert.ok(paused, 'the upstream got the request');
  assert.ok(stalledAt < SIZE / 2, `the client could push ${stalledAt} bytes`);
  socket.destroy();
  await g.close();
  await slow.close();
});

test('backpressure: a client that stops reading stalls the upstream download', async () => {
  let written = 0;
  const fast = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-length': SIZE });
    const chunk = Buffer.alloc(65_536, 97);
    const pump = () => {
      while (written < SIZE && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (written >= SIZE) res.end();
    };
    pump();
  });
  const settings = HttpProxyIntegrationSchema.parse({ type: 'http_proxy', url: fast.url });
  const g = await startTestGateway(createHttpProxyIntegration(settings, { stageVariables: {}, pools, maxRequestBodyBytes: 10 }));
  const socket = net.connect(g.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write('GET / HTTP/1.1\r\nHost: gw\r\n\r\n');
  await once(socket, 'readable');
  socket.pause();
  const stalledAt = await settled(() => written);
  assert.ok(stalledAt < SIZE / 2, `the upstream could push ${stalledAt} bytes`);
  socket.destroy();
  await g.close();
  await fast.close();
});
