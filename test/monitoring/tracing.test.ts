// Tracing end to end: a real upstream sees the propagated W3C traceparent and X-Amzn-Trace-Id with the gateway's
// span as parent, a real OTLP/HTTP receiver gets one span per sampled request with phase events, and the access
// log carries the trace id.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseTraceparent } from '../../src/observe/tracing.ts';
import { eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

interface Seen {
  traceparent?: string;
  xray?: string;
  tracestate?: string;
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  events: Array<{ name: string; timeUnixNano: string }>;
  status: { code: number };
}

const upstreamSeen: Seen[] = [];
const spans: Span[] = [];
const exports: Array<{ contentType: string; service: string }> = [];
let upstream: http.Server;
let collector: http.Server;
let gw: TestGateway;
let closed = false;

const listen = async (server: http.Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};
const attr = (span: Span, key: string) => span.attributes.find((a) => a.key === key)?.value;

before(async () => {
  upstream = http.createServer((req, res) => {
    upstreamSeen.push({
      traceparent: req.headers.traceparent as string | undefined,
      xray: req.headers['x-amzn-trace-id'] as string | undefined,
      tracestate: req.headers.tracestate as string | undefined,
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const doc = JSON.parse(body);
      for (const rs of doc.resourceSpans) {
        exports.push({ contentType: String(req.headers['content-type']), service: rs.resource.attributes.find((a: { key: string }) => a.key === 'service.name').value.stringValue });
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const up = await listen(upstream);
  const otlp = await listen(collector);
  gw = await startTestGateway(
    {
      apis: [
        {
          name: 'shop',
          stages: { prod: { accessLog: { format: '$context.requestId $context.traceId $context.xrayTraceId' } } },
          routes: [{ method: 'GET', path: '/items/{id}', integration: { type: 'http_proxy', url: `http://127.0.0.1:${up}/items/{id}` } }],
        },
      ],
    },
    { tracing: { endpoint: `http://127.0.0.1:${otlp}/v1/traces`, serviceName: 'edge-gateway' } },
  );
});
after(async () => {
  if (!closed) await gw?.close();
  upstream?.close();
  collector?.close();
});

describe('tracing', () => {
  const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  test('a caller\'s traceparent is continued: the upstream gets the same trace with the gateway\'s span as parent', async () => {
    const res = await request(gw.url, '/prod/items/7', { headers: { traceparent: incoming, tracestate: 'vendor=abc' } });
    assert.equal(res.status, 200);
    const seen = upstreamSeen.at(-1)!;
    const tp = parseTraceparent(seen.traceparent)!;
    assert.equal(tp.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.notEqual(tp.parentId, '00f067aa0ba902b7', 'the parent is the gateway span, not the caller\'s');
    assert.equal(tp.sampled, true);
    assert.equal(seen.xray, `Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=${tp.parentId};Sampled=1`);
    assert.equal(seen.tracestate, 'vendor=abc', 'tracestate passes through unchanged');
  });

  test('an X-Amzn-Trace-Id is accepted when there is no traceparent; without either a trace starts here', async () => {
    await request(gw.url, '/prod/items/8', { headers: { 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' } });
    assert.equal(parseTraceparent(upstreamSeen.at(-1)!.traceparent)!.traceId, '5759e988bd862e3fe1be46a994272793');
    await request(gw.url, '/prod/items/9', { headers: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' } });
    const fresh = parseTraceparent(upstreamSeen.at(-1)!.traceparent)!;
    assert.match(fresh.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(fresh.traceId, '0'.repeat(32), 'an invalid traceparent is replaced, not propagated');
  });

  test('an unsampled trace is propagated as unsampled and not exported', async () => {
    await request(gw.url, '/prod/items/10', { headers: { traceparent: '00-11111111111111111111111111111111-2222222222222222-00' } });
    const tp = parseTraceparent(upstreamSeen.at(-1)!.traceparent)!;
    assert.equal(tp.traceId, '11111111111111111111111111111111');
    assert.equal(tp.sampled, false);
  });

  test('the access log carries the trace id in W3C and X-Ray forms', async () => {
    const line = await eventually(() => gw.logLines.find((l) => l.includes('4bf92f3577b34da6a3ce929d0e0e4736')));
    assert.ok(line, gw.logLines.join('\n'));
    assert.match(line, / 4bf92f3577b34da6a3ce929d0e0e4736 1-4bf92f35-77b34da6a3ce929d0e0e4736$/);
  });

  test('one SERVER span per sampled request reaches the OTLP/HTTP receiver, with phase events', async () => {
    await request(gw.url, '/prod/nothing-here');
    await gw.close(); // flushes the exporter
    closed = true;
    assert.ok(exports.length >= 1);
    assert.equal(exports[0]!.contentType, 'application/json');
    assert.equal(exports[0]!.service, 'edge-gateway');
    assert.equal(spans.length, 4, spans.map((s) => s.name).join(', '));
    assert.equal(spans.filter((s) => s.traceId === '11111111111111111111111111111111').length, 0);

    const first = spans.find((s) => s.traceId === '4bf92f3577b34da6a3ce929d0e0e4736')!;
    assert.equal(first.parentSpanId, '00f067aa0ba902b7');
    assert.equal(first.spanId, parseTraceparent(upstreamSeen[0]!.traceparent)!.parentId);
    assert.equal(first.name, 'GET /items/{id}');
    assert.equal(first.kind, 2);
    assert.ok(BigInt(first.endTimeUnixNano) >= BigInt(first.startTimeUnixNano));
    assert.deepEqual(attr(first, 'http.response.status_code'), { intValue: '200' });
    assert.deepEqual(attr(first, 'http.route'), { stringValue: '/items/{id}' });
    assert.deepEqual(
      first.events.map((e) => e.name),
      ['route.matched', 'integration.start', 'integration.end'],
    );
    const unrouted = spans.find((s) => s.name === 'GET')!;
    assert.ok(unrouted, 'a request matching no route is named by its method only (bounded span names)');
    assert.deepEqual(attr(unrouted, 'error.type'), { stringValue: 'MISSING_AUTHENTICATION_TOKEN' });
    assert.equal(attr(unrouted, 'url.path')?.stringValue, '/prod/nothing-here');
  });
});
