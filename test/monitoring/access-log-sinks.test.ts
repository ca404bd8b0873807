// Access-log destinations: a file rotated by size and by time (fake clock), and the HTTP sink against a real
// receiver through a real gateway (batches, a retried 503, everything delivered at shutdown), dropping and
// counting when the receiver cannot keep up.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeClock } from '../../src/core/clock.ts';
import { createAccessLogger } from '../../src/observe/access-log.ts';
import { createHttpLogStream, createRotatingFileStream } from '../../src/observe/access-log-sinks.ts';
import { accessLogTargetFromEnv } from '../../src/observe/access-log-target.ts';
import { request, startTestGateway } from '../helpers/gateway.ts';

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'portcullis-log-'));
  dirs.push(d);
  return d;
};
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const line = (i: number) => `{"requestId":"req-${String(i).padStart(4, '0')}","status":"200"}`; // 39 bytes + newline

describe('rotating file', () => {
  test('rotates by size, never splitting a line, and keeps the newest N files', async () => {
    const dir = await tempDir();
    const path = join(dir, 'access.log');
    const clock = createFakeClock();
    const stream = createRotatingFileStream(path, { maxBytes: 200, keep: 2 }, clock);
    const log = createAccessLogger({ destination: { stream } });
    for (let i = 0; i < 20; i++) {
      log.write(line(i));
      await log.flush(); // one write per line, so the size check sees each
    }
    await log.close();
    await new Promise<void>((r) => stream.end(r));
    assert.deepEqual((await readdir(dir)).sort(), ['access.log', 'access.log.1', 'access.log.2']);
    const all: string[] = [];
    for (const name of ['access.log.2', 'access.log.1', 'access.log']) {
      const text = await readFile(join(dir, name), 'utf8');
      assert.ok(Buffer.byteLength(text) <= 200, `${name} is ${Buffer.byteLength(text)} bytes`);
      all.push(...text.split('\n').filter(Boolean));
    }
    // Files of 5 lines (200 bytes) each; the oldest file was deleted: the last 15 lines remain, in order, whole.
    assert.deepEqual(all, Array.from({ length: 15 }, (_, i) => line(i + 5)));
    assert.equal(stream.rotations, 3);
  });

  test('rotates when a write falls in a new interval of the clock', async () => {
    const dir = await tempDir();
    const path = join(dir, 'access.log');
    const clock = createFakeClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    const stream = createRotatingFileStream(path, { intervalSeconds: 3600, keep: 5 }, clock);
    const log = createAccessLogger({ destination: { stream } });
    log.write(line(1));
    await log.flush();
    clock.advance(30 * 60_000);
    log.write(line(2));
    await log.flush();
    clock.advance(31 * 60_000); // 01:01: a new hour
    log.write(line(3));
    await log.close();
    await new Promise<void>((r) => stream.end(r));
    assert.equal(await readFile(`${path}.1`, 'utf8'), `${line(1)}\n${line(2)}\n`);
    assert.equal(await readFile(path, 'utf8'), `${line(3)}\n`);
  });

  test('the environment chooses the destination', () => {
    assert.equal(accessLogTargetFromEnv({}), 'stdout');
    assert.deepEqual(accessLogTargetFromEnv({ PORTCULLIS_ACCESS_LOG: 'https://logs.example/in' }), { http: 'https://logs.example/in' });
    assert.deepEqual(
      accessLogTargetFromEnv({ PORTCULLIS_ACCESS_LOG: '/var/log/p.log', PORTCULLIS_ACCESS_LOG_ROTATE_BYTES: '1000000', PORTCULLIS_ACCESS_LOG_KEEP: '3' }),
      { file: '/var/log/p.log', rotate: { maxBytes: 1_000_000, keep: 3 } },
    );
    assert.throws(() => accessLogTargetFromEnv({ PORTCULLIS_ACCESS_LOG: '/x', PORTCULLIS_ACCESS_LOG_ROTATE_SECONDS: '1h' }), /PORTCULLIS_ACCESS_LOG_ROTATE_SECONDS must be a whole number/);
  });
});

describe('HTTP sink', () => {
  test('a gateway ships its access log to a real receiver in batches, retrying a 503, all lines at shutdown', async () => {
    const posts: Array<{ contentType: string; lines: string[] }> = [];
    let failFirst = true;
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (failFirst) {
          failFirst = false;
          return res.writeHead(503).end();
        }
        posts.push({ contentType: String(req.headers['content-type']), lines: body.split('\n').filter(Boolean) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/logs`;
    try {
      const gw = await startTestGateway(
        { apis: [{ name: 'a', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', integration: { type: 'mock', body: { ok: true } } }] }] },
        { accessLogDestination: { http: url, lingerMs: 60_000, batchBytes: 2048 } },
      );
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push(String((await request(gw.url, '/prod/x')).headers['x-amzn-requestid']));
      await gw.close();
      const got = posts.flatMap((p) => p.lines.map((l) => JSON.parse(l).requestId as string));
      assert.deepEqual(got, ids, 'every line once, in order, none lost to the 503');
      assert.ok(posts.length >= 2 && posts.length < 30, `batched: ${posts.length} POSTs`);
      assert.ok(posts.every((p) => p.contentType === 'application/x-ndjson'));
    } finally {
      receiver.close();
    }
  });

  test('a receiver that cannot keep up costs dropped, counted lines, not memory', async () => {
    const hung: http.ServerResponse[] = [];
    const receiver = http.createServer((_req, res) => void hung.push(res));
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    let droppedReported = 0;
    const stream = createHttpLogStream({
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
      batchBytes: 100,
      maxQueueBytes: 1000,
      retries: 0,
      timeoutMs: 60_000,
      onDrop: (n) => (droppedReported += n),
    });
    try {
      for (let i = 0; i < 100; i++) stream.write(line(i) + '\n');
      // The first batch is in flight and never answered; at most 1000 bytes wait behind it.
      assert.ok(stream.droppedLines >= 70, `dropped ${stream.droppedLines}`);
      assert.equal(droppedReported, stream.droppedLines);
      assert.ok(stream.writableLength === 0, 'nothing piles up in the Writable either');
    } finally {
      for (const r of hung) r.destroy();
      receiver.closeAllConnections();
      receiver.close();
      stream.destroy();
    }
  });
});

