// The HTTP proxy integration (AWS HTTP_PROXY): streams the request to the upstream through its undici
// pool and the response back, with hop-by-hop headers removed both ways, size limit and timeouts.
//
// Speed: one Exchange object per request is the undici dispatch handler itself (undici 7's native
// legacy handler interface, so no wrapper), response chunks go straight to res.write with undici's
// parser paused on backpressure, event listeners are module-level functions that find their Exchange
// through a symbol, and timeouts share one timer per route. Measured on Node 20 against a bare proxy
// doing the same: pool.request + pipeline(body, res) with an AbortController cost about 3x the CPU
// per small GET that pool.dispatch with a handler does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import type { HttpProxyIntegration } from '../../config/schema.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { deny, type Denial } from '../../core/denial.ts';
import { RESPONSE_TYPES } from '../../core/gateway-responses.ts';
import { applyGatewayHeaders, type InFlight, type RequestContext } from '../pipeline/context.ts';
import type { IntegrationDone, IntegrationFn } from './types.ts';
import type { UpstreamPools } from './upstream-pools.ts';
import { normalize } from '../trusted-proxies.ts';
import { compileUrlTemplate } from './url-template.ts';
import { resolveUpstreamTls } from './upstream-tls.ts';

export interface HttpProxyOptions {
  readonly stageVariables: Readonly<Record<string, string>>;
  readonly pools: UpstreamPools;
  /** Largest request body forwarded; a larger Content-Length or streamed body gets REQUEST_TOO_LARGE. */
  readonly maxRequestBodyBytes: number;
  /** Measures ctx.integration.latency. */
  readonly clock?: Clock;
  /** Greedy path parameters of the route besides `proxy` (see url-template.ts). */
  readonly greedyParameters?: readonly string[];
}

/**
 * Hop-by-hop request headers (RFC 9110 §7.6.1) plus the ones the gateway sets itself: Host comes from
 * the upstream origin, Expect was answered by Node already (and undici refuses it), X-Forwarded-* are
 * rebuilt below so a client cannot spoof them (X-Forwarded-For is extended, not replaced).
 */
const SKIP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'host', 'expect', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
]);
/** Hop-by-hop response headers (RFC 9110 §7.6.1); Node frames the client response itself. */
const SKIP_RESPONSE = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

const kExchange = Symbol('portcullis.exchange');
type Carrier = { [kExchange]?: Exchange };

const PENDING = 0; // dispatched, nothing sent to the client yet
const STREAMING = 1; // response head written, body flowing
const DONE = 2; // settled: done() was called, later undici callbacks are ignored

const TIMEOUT_ERROR = 'Execution failed due to a timeout error';
const FAILURE_MESSAGE = RESPONSE_TYPES.INTEGRATION_FAILURE.message ?? 'Network error communicating with endpoint';

interface Route {
  readonly pool: Pool;
  readonly timeoutMs: number;
  readonly timeouts: TimeoutQueue;
  readonly maxBody: number;
  readonly clock: Clock;
}

export function createHttpProxyIntegration(settings: HttpProxyIntegration, options: HttpProxyOptions): IntegrationFn {
  const template = compileUrlTemplate(settings.url, options.stageVariables, {
    greedyParameters: options.greedyParameters,
  });
  const route: Route = Object.freeze({
    pool: options.pools.get(template.origin, settings.connectTimeoutMs, settings.tls && resolveUpstreamTls(settings.tls, template.origin)),
    timeoutMs: settings.timeoutMs,
    timeouts: timeoutQueueFor(settings.timeoutMs),
    maxBody: options.maxRequestBodyBytes,
    clock: options.clock ?? systemClock,
  });

  return function httpProxy(ctx: RequestContext, done: IntegrationDone): void {
    const { req, res } = ctx;
    if (res.destroyed) {
      ctx.integration.error = 'Client closed the connection';
      return done(ctx, undefined);
    }
    const path = template.path(ctx.pathParameters, ctx.rawQuery);
    if (path === undefined) {
      return done(ctx, deny('BAD_REQUEST', { detail: 'a path parameter is a dot segment or not encodable' }));
    }

    let hasBody: boolean;
    const cl = req.headers['content-length'];
    if (cl !== undefined) {
      const length = Number(cl);
      if (length > route.maxBody) {
        res.shouldKeepAlive = false; // do not read (or let Node dump) a body we refuse
        return done(ctx, deny('REQUEST_TOO_LARGE', { detail: `content-length ${cl} exceeds ${route.maxBody}` }));
      }
      hasBody = length > 0;
    } else {
      hasBody = req.headers['transfer-encoding'] !== undefined;
    }

    const exchange = new Exchange(ctx, route, done);
    (res as Carrier)[kExchange] = exchange;
    ctx.inFlight = exchange;
    // A stage that had to read the whole body first (SigV4 hashes it) leaves it here; it is sent as is.
    const buffered = ctx.extensions.requestBody;
    const preread = buffered instanceof Uint8Array ? buffered : null;
    if (hasBody && preread === null) exchange.body = new RequestBody(exchange);
    route.timeouts.add(exchange);
    exchange.started = route.clock.now();
    const request: Dispatcher.DispatchOptions = {
      path,
      method: ctx.httpMethod,
      headers: upstreamHeaders(ctx),
      body: preread ?? exchange.body,
      headersTimeout: route.timeoutMs,
      bodyTimeout: route.timeoutMs,
    };
    // Only a request that can be sent again unchanged may be retried on a fresh connection.
    if (exchange.body === null && RETRYABLE_METHODS.has(ctx.httpMethod)) exchange.request = request;
    route.pool.dispatch(request, exchange);
  };
}

/**
 * A kept-alive upstream connection can be closed by the upstream just as a request is written on it
 * (its idle timeout racing ours). Idempotent requests (RFC 9110 §9.2.2) without a streamed body that
 * failed that way before any response byte are sent once more, on a fresh connection, within the same
 * integration timeout; anything else answers 502 as before.
 */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/** One proxied request: the undici dispatch handler, and the owner of the client-side listeners. */
class Exchange implements Dispatcher.DispatchHandler, InFlight {
  readonly ctx: RequestContext;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: Route;
  /** The dispatcher's completion callback, called once through finish(). */
  readonly done: IntegrationDone;
  state = PENDING;
  started = 0;
  /** TimeoutQueue links: performance.now() deadline, neighbours, membership. */
  deadline = 0;
  prev: Exchange | null = null;
  next: Exchange | null = null;
  queued = false;
  body: RequestBody | null = null;
  /** undici's abort for the request, known once it is written to a socket. */
  abortUpstream: ((err?: Error) => void) | null = null;
  /** Abort requested before undici called onConnect. */
  abortReason: Error | null = null;
  /** undici's parser resume, for client backpressure. */
  resumeUpstream: (() => void) | null = null;
  drainHooked = false;
  /** The dispatched request while it may still be retried once (see RETRYABLE_METHODS). */
  request: Dispatcher.DispatchOptions | null = null;

  constructor(ctx: RequestContext, route: Route, done: IntegrationDone) {
    this.ctx = ctx;
    this.req = ctx.req;
    this.res = ctx.res;
    this.route = route;
    this.done = done;
  }

  // ---- undici handler -------------------------------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    if (this.state === DONE) abort(this.abortReason ?? new Error('aborted'));
    else this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx informational responses are not forwarded
    if (this.state !== PENDING) return false;
    const res = this.res;
    this.stopTimeout();
    this.resumeUpstream = resume;
    this.ctx.integration.status = statusCode;

    // The upstream began answering before the client finished sending: the rest of that body will not
    // be read, so the client connection cannot be reused.
    if (this.body !== null && !this.req.complete) res.shouldKeepAlive = false;

    let hasLength: boolean;
    if (this.req.httpVersionMajor < 2) {
      // HTTP/1: one array handed to writeHead, Node's fast path when no stage set a header.
      // The upstream's headers follow the gateway's own in ctx.gatewayHeaders (no copy per request).
      const head = this.ctx.gatewayHeaders;
      const own = head.length;
      hasLength = collectResponseHeaders(raw, head);
      try {
        res.writeHead(statusCode, head);
      } catch (err) {
        // An invalid upstream value: undici aborts and calls onError while PENDING, and the gateway response
        // that follows must carry the gateway's headers only.
        for (let i = own; i < head.length; i += 2) res.removeHeader(head[i]);
        head.length = own;
        throw err;
      }
    } else {
      // HTTP/2 compatibility responses: header by header, through the adapter's filter.
      applyGatewayHeaders(this.ctx);
      const copied: string[] = [];
      try {
        hasLength = copyResponseHeaders(res, raw, copied);
        res.writeHead(statusCode);
      } catch (err) {
        for (const name of copied) res.removeHeader(name);
        throw err;
      }
    }
    this.state = STREAMING;
    // Unknown length (a stream, events): show the head now rather than with the first chunk.
    if (!hasLength && statusCode !== 204 && statusCode !== 304 && this.ctx.httpMethod !== 'HEAD') {
      res.flushHeaders();
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.state !== STREAMING) return false;
    this.ctx.responseLength += chunk.length;
    if (this.res.write(chunk)) return true;
    if (!this.drainHooked) {
      this.drainHooked = true;
      this.res.on('drain', onResponseDrain);
    }
    return false;
  }

  onComplete(): void {
    if (this.state !== STREAMING) return;
    this.state = DONE;
    this.ctx.integration.latency = Math.round(this.route.clock.now() - this.started);
    this.res.end();
    this.finish(undefined);
  }

  onError(err: Error): void {
    if (this.state === DONE) return;
    const request = this.request;
    if (request !== null && this.state === PENDING && !this.res.destroyed && STALE_CONNECTION.has((err as { code?: string }).code ?? '')) {
      this.request = null;
      this.abortUpstream = null;
      this.route.pool.dispatch(request, this);
      return;
    }
    const wasStreaming = this.state === STREAMING;
    this.settle();
    const integration = this.ctx.integration;
    integration.latency = -1;
    if (this.res.destroyed) {
      integration.error = 'Client closed the connection';
      this.finish(undefined);
      return;
    }
    const code = (err as { code?: string }).code ?? err.name;
    const detail = `${code}: ${err.message}`;
    if (wasStreaming) {
      // Headers are out: the only honest signal left is a truncated response.
      integration.error = detail;
      this.res.destroy();
      this.finish(undefined);
      return;
    }
    this.closeAfterResponse();
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
      integration.error = TIMEOUT_ERROR;
      this.finish(deny('INTEGRATION_TIMEOUT', { detail }));
    } else {
      integration.error = FAILURE_MESSAGE;
      this.finish(deny('INTEGRATION_FAILURE', { detail }));
    }
  }

  // ---- gateway-side events --------------------------------------------------------------------

  timedOut(): void {
    if (this.state !== PENDING) return;
    this.settle();
    this.abort(new Error('integration timeout'));
    this.ctx.integration.latency = -1;
    this.ctx.integration.error = TIMEOUT_ERROR;
    this.closeAfterResponse();
    this.finish(deny('INTEGRATION_TIMEOUT', { detail: `no response within ${this.route.timeoutMs} ms` }));
  }

  clientClosed(): void {
    if (this.state === DONE) return;
    this.settle();
    this.abort(new Error('client closed the connection'));
    this.ctx.integration.latency = -1;
    this.ctx.integration.error = 'Client closed the connection';
    this.finish(undefined);
  }

  requestTooLarge(): void {
    if (this.state === DONE) return;
    const wasStreaming = this.state === STREAMING;
    this.settle();
    this.abort(new Error('request body too large'));
    const detail = `request body exceeds ${this.route.maxBody} bytes`;
    if (wasStreaming) {
      this.ctx.integration.error = detail;
      this.res.destroy();
      this.finish(undefined);
      return;
    }
    this.ctx.integration.latency = -1;
    this.res.shouldKeepAlive = false;
    this.finish(deny('REQUEST_TOO_LARGE', { detail }));
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** Reports the outcome; every caller has just moved the exchange to DONE, so this runs once. */
  private finish(denial: Denial | undefined): void {
    this.done(this.ctx, denial);
  }

  private settle(): void {
    this.state = DONE;
    this.stopTimeout();
    // Stop feeding the upstream; undici may still hold the stream, so it is destroyed, not reused.
    if (this.body !== null && !this.body.destroyed) this.body.destroy();
  }

  private abort(err: Error): void {
    if (this.abortUpstream !== null) this.abortUpstream(err); // resets the upstream connection
    else this.abortReason = err;
  }

  private stopTimeout(): void {
    if (this.queued) this.route.timeouts.remove(this);
  }

  /** The client's body will not be read to its end: answer with Connection: close. */
  private closeAfterResponse(): void {
    if (this.body !== null && !this.req.complete) this.res.shouldKeepAlive = false;
  }
}

/**
 * The integration timeout without a Node timer per request (setTimeout + clearTimeout cost more than
 * the rest of the bookkeeping): a route has one timeout, so its pending exchanges' deadlines are in
 * dispatch order, and a FIFO list with one timer for its head is enough.
 */
// One queue per timeout value, shared by every route with that timeout (deadlines stay in FIFO order):
// 10,000 routes should not mean 10,000 queues.
const timeoutQueues = new Map<number, TimeoutQueue>();
function timeoutQueueFor(timeoutMs: number): TimeoutQueue {
  let queue = timeoutQueues.get(timeoutMs);
  if (queue === undefined) timeoutQueues.set(timeoutMs, (queue = new TimeoutQueue(timeoutMs)));
  return queue;
}

class TimeoutQueue {
  readonly timeoutMs: number;
  head: Exchange | null = null;
  tail: Exchange | null = null;
  timer: NodeJS.Timeout | null = null;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  add(exchange: Exchange): void {
    exchange.deadline = performance.now() + this.timeoutMs;
    exchange.queued = true;
    exchange.prev = this.tail;
    exchange.next = null;
    if (this.tail === null) this.head = exchange;
    else this.tail.next = exchange;
    this.tail = exchange;
    if (this.timer === null) this.arm(this.timeoutMs);
  }

  remove(exchange: Exchange): void {
    const { prev, next } = exchange;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    exchange.prev = exchange.next = null;
    exchange.queued = false;
  }

  expire(): void {
    this.timer = null;
    // Node may fire a timer up to a millisecond before performance.now() reaches the deadline.
    const now = performance.now() + 1;
    let head = this.head;
    while (head !== null && head.deadline <= now) {
      this.remove(head);
      head.timedOut();
      head = this.head;
    }
    if (head !== null) this.arm(head.deadline - now + 1);
  }

  private arm(ms: number): void {
    // Unref'd: pending upstream sockets keep the process alive, this timer alone must not.
    this.timer = setTimeout(expireQueue, Math.max(1, Math.ceil(ms)), this).unref();
  }
}

function expireQueue(queue: TimeoutQueue): void {
  queue.expire();
}

function onResponseDrain(this: ServerResponse): void {
  const exchange = (this as Carrier)[kExchange];
  if (exchange !== undefined && exchange.state === STREAMING) exchange.resumeUpstream?.();
}

/**
 * The request body as undici sees it: a thin Readable fed from the IncomingMessage, so bytes are
 * counted and limited as they stream, and so undici destroying its body on an upstream failure does
 * not destroy the client's socket (the client still gets its 502/504).
 */
class RequestBody extends Readable {
  readonly exchange: Exchange;
  readonly req: IncomingMessage;

  constructor(exchange: Exchange) {
    super({ highWaterMark: 65_536 });
    this.exchange = exchange;
    this.req = exchange.req;
    (this.req as BodyCarrier)[kBody] = this;
    this.req.on('data', onRequestData).on('end', onRequestEnd).on('error', onRequestError);
  }

  override _read(): void {
    this.req.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const req = this.req;
    req.off('data', onRequestData).off('end', onRequestEnd).off('error', onRequestError);
    if (!req.complete) req.pause();
    callback(err);
  }
}

const kBody = Symbol('portcullis.request-body');
type BodyCarrier = { [kBody]?: RequestBody };

function onRequestData(this: IncomingMessage, chunk: Buffer): void {
  const body = (this as BodyCarrier)[kBody]!;
  const ctx = body.exchange.ctx;
  ctx.requestBodyLength += chunk.length;
  if (ctx.requestBodyLength > body.exchange.route.maxBody) {
    body.exchange.requestTooLarge();
    return;
  }
  if (!body.push(chunk)) this.pause();
}

function onRequestEnd(this: IncomingMessage): void {
  (this as BodyCarrier)[kBody]!.push(null);
}

function onRequestError(this: IncomingMessage, err: Error): void {
  (this as BodyCarrier)[kBody]!.destroy(err);
}

/** The upstream request's headers: the client's minus hop-by-hop ones, plus X-Forwarded-*. */
function upstreamHeaders(ctx: RequestContext): string[] {
  const req = ctx.req;
  const h = req.headers;
  const listed = h.connection === undefined ? null : connectionTokens(h.connection);
  const out: string[] = [];
  for (const name in h) {
    if (SKIP_REQUEST.has(name) || (listed !== null && listed.includes(name))) continue;
    const value = h[name];
    if (typeof value === 'string') out.push(name, value);
    else if (value !== undefined) for (const v of value) out.push(name, v);
  }
  // peerIp is set by the dispatcher; an integration driven without one reads the socket itself.
  const peer = ctx.peerIp || normalize(req.socket.remoteAddress ?? '') || ctx.identity.sourceIp;
  const prior = h['x-forwarded-for'];
  out.push('x-forwarded-for', prior ? `${prior}, ${peer}` : peer);
  out.push('x-forwarded-proto', ctx.secureTransport ? 'https' : 'http');
  if (h.host !== undefined) out.push('x-forwarded-host', h.host);
  return out;
}

/** Header names a Connection header lists (RFC 9110 §7.6.1), lower-case; null for the usual values. */
function connectionTokens(value: string): string[] | null {
  const lower = value.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return null;
  const tokens: string[] = [];
  for (const t of lower.split(',')) {
    const name = t.trim();
    if (name !== '' && name !== 'keep-alive' && name !== 'close') tokens.push(name);
  }
  return tokens.length === 0 ? null : tokens;
}

/**
 * Upstream response headers that name a header the gateway owns are passed on renamed, as AWS does:
 * `x-amzn-Remapped-<name>`. The client always sees the gateway's own request ids.
 */
const OWNED_NAMES = new Set(['x-amzn-requestid', 'x-amz-apigw-id']);
const REMAPPED = 'x-amzn-Remapped-';

/**
 * Appends the upstream's response headers (minus hop-by-hop) to `out` as name/value pairs, with the
 * upstream's spelling and every repeat (Set-Cookie). Returns whether a Content-Length is among them.
 * One pass in the usual case; when a Connection header lists more than keep-alive or close (RFC 9110
 * §7.6.1: those names are hop-by-hop too), the headers are collected again without them.
 */
function collectResponseHeaders(raw: Buffer[], out: string[], listed: readonly string[] | null = null): boolean {
  const from = out.length;
  let hasLength = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerName(raw[i]);
    const kind = name.kind;
    if (kind === HOP_BY_HOP) continue;
    if (kind === CONNECTION) {
      if (listed === null) {
        const tokens = connectionTokens(raw[i + 1].toString('latin1'));
        if (tokens !== null) {
          out.length = from;
          return collectResponseHeaders(raw, out, tokens);
        }
      }
      continue;
    }
    if (listed !== null && listed.includes(name.lower)) continue;
    if (kind === CONTENT_LENGTH) hasLength = true;
    out.push(kind === GATEWAY_OWNED ? REMAPPED + name.text : name.text, raw[i + 1].toString('latin1'));
  }
  return hasLength;
}

// What a response header name means to the proxy.
const END_TO_END = 0;
const HOP_BY_HOP = 1;
const CONNECTION = 2;
const CONTENT_LENGTH = 3;
const GATEWAY_OWNED = 4;

interface HeaderName {
  /** The name's bytes (a copy), to recognise it next time. */
  readonly bytes: Uint8Array;
  /** As the upstream spelled it. */
  readonly text: string;
  readonly lower: string;
  readonly kind: number;
}

/**
 * Upstreams send the same few header names on every response. A small direct-mapped table from a
 * name's bytes to its decoded form and meaning replaces, per name, a native toString call, a
 * toLowerCase and set lookups (about 1,000 instructions) with a byte comparison. Bounded: 256 slots of
 * names up to 64 bytes; a colliding name replaces the slot's entry, longer names are not kept.
 */
const NAME_SLOTS = 256;
const MAX_CACHED_NAME = 64;
const nameTable: Array<HeaderName | undefined> = new Array<HeaderName | undefined>(NAME_SLOTS).fill(undefined);

function headerName(buf: Buffer): HeaderName {
  const len = buf.length;
  if (len === 0 || len > MAX_CACHED_NAME) return describeName(buf);
  const slot = (len * 31 + buf[0] * 17 + buf[len >> 1] * 7 + buf[len - 1]) & (NAME_SLOTS - 1);
  const cached = nameTable[slot];
  if (cached !== undefined && sameBytes(cached.bytes, buf, len)) return cached;
  const fresh = describeName(buf);
  nameTable[slot] = fresh;
  return fresh;
}

function sameBytes(a: Uint8Array, b: Buffer, len: number): boolean {
  if (a.length !== len) return false;
  for (let i = 0; i < len; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describeName(buf: Buffer): HeaderName {
  const text = buf.toString('latin1');
  const lower = text.toLowerCase();
  const kind =
    lower === 'connection' ? CONNECTION
    : SKIP_RESPONSE.has(lower) ? HOP_BY_HOP
    : lower === 'content-length' ? CONTENT_LENGTH
    : OWNED_NAMES.has(lower) ? GATEWAY_OWNED
    : END_TO_END;
  // A copy: undici's buffers are views of memory it reuses.
  return { bytes: Uint8Array.from(buf), text, lower, kind };
}

/**
 * HTTP/2: sets the upstream's response headers (minus hop-by-hop) on res one by one. setHeader for a
 * name's first value and appendHeader only for repeats (appendHeader validates twice). `copied`
 * receives the lower-case names set. Returns whether a Content-Length was sent.
 */
function copyResponseHeaders(res: ServerResponse, raw: Buffer[], copied: string[]): boolean {
  const pairs: string[] = [];
  const hasLength = collectResponseHeaders(raw, pairs);
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i];
    const lower = name.toLowerCase();
    if (copied.indexOf(lower) === -1) {
      copied.push(lower);
      res.setHeader(name, pairs[i + 1]);
    } else {
      res.appendHeader(name, pairs[i + 1]);
    }
  }
  return hasLength;
}
