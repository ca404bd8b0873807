// Test-only helpers for src/observe: RequestContexts built from hand-made req/res objects (no server),
// and a Writable that records what it is given.
import { IncomingMessage, ServerResponse, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { RequestContext } from '../gateway/pipeline/context.ts';

export interface FakeRequest {
  method?: string;
  url?: string;
  headers?: IncomingHttpHeaders;
  httpVersion?: string;
  sourceIp?: string;
  requestTimeEpoch?: number;
  requestId?: string;
  extendedRequestId?: string;
  domainName?: string;
}

export function fakeContext(r: FakeRequest = {}): RequestContext {
  const req = new IncomingMessage(new Socket());
  req.method = r.method ?? 'GET';
  req.url = r.url ?? '/prod/pets/1';
  req.headers = r.headers ?? {};
  req.httpVersion = r.httpVersion ?? '1.1';
  const res = new ServerResponse(req);
  const url = req.url;
  const q = url.indexOf('?');
  return new RequestContext({
    req,
    res,
    requestId: r.requestId ?? 'c0ffee00-1111-4222-8333-444455556666',
    extendedRequestId: r.extendedRequestId ?? 'AbCdEfGhIjKl',
    requestTimeEpoch: r.requestTimeEpoch ?? Date.UTC(2026, 0, 5, 3, 4, 5, 678),
    startedAt: 0,
    rawPath: q === -1 ? url : url.slice(0, q),
    rawQuery: q === -1 ? '' : url.slice(q + 1),
    sourceIp: r.sourceIp ?? '203.0.113.7',
    secureTransport: false,
    domainName: r.domainName ?? 'api.example.com',
  });
}

/** A context as the log phase sees it after a routed, integrated GET /prod/pets/1 answered 200. */
export function finishedContext(r: FakeRequest = {}): RequestContext {
  const ctx = fakeContext(r);
  ctx.apiId = 'a1b2c3d4e5';
  ctx.apiName = 'pets';
  ctx.stage = 'prod';
  ctx.path = '/prod/pets/1';
  ctx.stagePath = '/pets/1';
  ctx.resourcePath = '/pets/{id}';
  ctx.routeKey = 'GET /pets/{id}';
  ctx.status = 200;
  ctx.responseLength = 42;
  ctx.responseLatency = 12;
  ctx.integration = { status: 200, latency: 9, error: '', requestId: '' };
  return ctx;
}

/** Records every chunk; `lines()` splits what it got on newlines. */
export function recordingStream(): Writable & { text(): string; lines(): string[] } {
  let text = '';
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return Object.assign(w, {
    text: () => text,
    lines: () => text.split('\n').filter((l) => l !== ''),
  });
}
