// Tracing pieces on their own: traceparent and X-Amzn-Trace-Id parsing (W3C Trace Context level 1 rules), and
// an exporter that drops and counts spans, never holds them, when the collector refuses them or is away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTracer, parseTraceparent, parseXrayHeader, xrayTraceId } from './tracing.ts';
import { finishedContext } from './test-support.ts';
import { systemClock } from '../core/clock.ts';

test('traceparent: valid, future versions, and the invalid forms W3C says to ignore', () => {
  assert.deepEqual(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    parentId: '00f067aa0ba902b7',
    sampled: true,
  });
  assert.equal(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')?.sampled, false);
  assert.ok(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'), 'a later version may add fields');
  for (const bad of [
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // version 00 has exactly four fields
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
    'garbage',
    undefined,
  ]) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
  assert.deepEqual(parseXrayHeader('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'), {
    traceId: '5759e988bd862e3fe1be46a994272793',
    parentId: '53995c3f42cd8ad8',
    sampled: true,
  });
  assert.equal(parseXrayHeader('Self=1-abc;Parent=53995c3f42cd8ad8'), undefined);
  assert.equal(xrayTraceId('5759e988bd862e3fe1be46a994272793'), '1-5759e988-bd862e3fe1be46a994272793');
});

test('spans a collector refuses, and spans past the queue bound, are dropped and counted', async () => {
  const server = http.createServer((_req, res) => res.writeHead(503).end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let reported = 0;
  const tracer = createTracer({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    clock: systemClock,
    maxQueue: 3,
    batchSize: 100,
    flushMs: 60_000,
    onDrop: (n) => (reported += n),
  });
  try {
    for (let i = 0; i < 5; i++) {
      const ctx = finishedContext();
      tracer.onRequestStart(ctx);
      tracer.onRequestEnd(ctx);
    }
    assert.equal(tracer.droppedSpans, 2, 'the queue holds 3');
    await tracer.flush();
    assert.equal(tracer.droppedSpans, 5, 'the refused batch is counted too');
    assert.equal(tracer.exportedSpans, 0);
    assert.equal(reported, 5);
  } finally {
    await tracer.close();
    server.close();
  }
});
