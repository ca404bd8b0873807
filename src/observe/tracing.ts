// Optional OpenTelemetry tracing: a W3C `traceparent` (or AWS `X-Amzn-Trace-Id`) is accepted, the gateway's own
// span becomes the upstream's parent (both headers are rewritten before the integration), and one SERVER span
// per sampled request, with phase timings as events, is exported in batches over OTLP/HTTP (JSON encoding).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { Clock } from '../core/clock.ts';
import { VERSION } from '../core/version.ts';
import type { RequestContext } from '../gateway/pipeline/context.ts';

export const TRACE_EXTENSION = 'trace';

export interface TraceState {
  readonly traceId: string;
  readonly spanId: string;
  /** The caller's span ('' when the trace starts here). */
  readonly parentSpanId: string;
  readonly sampled: boolean;
  /** Epoch ms at arrival, for the span's start; phase marks are performance.now() offsets from `startedAt`. */
  readonly startEpochMs: number;
  readonly marks: Array<[name: string, at: number]>;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const XRAY_ROOT = /(?:^|;)\s*Root=1-([0-9a-f]{8})-([0-9a-f]{24})\s*(?:;|$)/i;
const XRAY_PARENT = /(?:^|;)\s*Parent=([0-9a-f]{16})\s*(?:;|$)/i;
const XRAY_SAMPLED = /(?:^|;)\s*Sampled=([01?])\s*(?:;|$)/i;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** W3C Trace Context level 1, section 3.2: version ff and all-zero ids are invalid; a future version may add fields. */
export function parseTraceparent(value: string | undefined): { traceId: string; parentId: string; sampled: boolean } | undefined {
  if (!value) return undefined;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, parentId, flags, rest] = m;
  if (version === 'ff' || traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  return { traceId: traceId!, parentId: parentId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

/** `Root=1-<8 hex epoch>-<24 hex>;Parent=<16 hex>;Sampled=1`: the Root is the W3C trace id split after 8 digits. */
export function parseXrayHeader(value: string | undefined): { traceId: string; parentId: string; sampled: boolean | undefined } | undefined {
  if (!value) return undefined;
  const root = XRAY_ROOT.exec(value);
  if (!root) return undefined;
  const parent = XRAY_PARENT.exec(value)?.[1]?.toLowerCase() ?? '';
  const s = XRAY_SAMPLED.exec(value)?.[1];
  return { traceId: (root[1]! + root[2]!).toLowerCase(), parentId: parent, sampled: s === '1' ? true : s === '0' ? false : undefined };
}

export function xrayTraceId(traceId: string): string {
  return `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`;
}

export interface TracerOptions {
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  readonly endpoint: string;
  readonly clock: Clock;
  readonly serviceName?: string;
  /** Share of new traces sampled (0..1, default 1); a caller's sampled flag is honoured as W3C asks. */
  readonly sampleRatio?: number;
  /** Extra headers for the collector (OTEL_EXPORTER_OTLP_HEADERS). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly batchSize?: number;
  readonly flushMs?: number;
  /** Spans waiting at most; past it new spans are dropped and counted. */
  readonly maxQueue?: number;
  readonly onDrop?: (count: number) => void;
  readonly onExportError?: (err: Error) => void;
  readonly random?: () => number;
}

export interface Tracer {
  onRequestStart(ctx: RequestContext): void;
  onPhase(ctx: RequestContext, phase: 'route' | 'integration'): void;
  onRequestEnd(ctx: RequestContext): void;
  /** Exports what is queued now. */
  flush(): Promise<void>;
  readonly droppedSpans: number;
  readonly exportedSpans: number;
  close(): Promise<void>;
}

interface Attr {
  key: string;
  value: { stringValue: string } | { intValue: string } | { doubleValue: number };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 2;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attr[];
  events: Array<{ timeUnixNano: string; name: string; attributes: Attr[] }>;
  status: { code: 0 | 1 | 2; message?: string };
}

const s = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const i = (key: string, v: number): Attr => ({ key, value: { intValue: String(Math.round(v)) } });
const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export function createTracer({
  endpoint,
  clock,
  serviceName = 'portcullis',
  sampleRatio = 1,
  headers = {},
  batchSize = 512,
  flushMs = 2000,
  maxQueue = 8192,
  onDrop,
  onExportError,
  random = Math.random,
}: TracerOptions): Tracer {
  const url = new URL(endpoint);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the OTLP endpoint must be an http(s) URL, got ${endpoint}`);
  let queue: OtlpSpan[] = [];
  let dropped = 0;
  let exported = 0;
  let sending: Promise<void> | undefined;
  let closed = false;
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  const resource = { attributes: [s('service.name', serviceName), s('service.version', VERSION), s('telemetry.sdk.name', 'portcullis')] };

  async function send(spans: OtlpSpan[]): Promise<void> {
    const body = JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'portcullis', version: VERSION }, spans }] }] });
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      await res.body.dump();
      if (res.statusCode >= 300) throw new Error(`OTLP collector answered HTTP ${res.statusCode}`);
      exported += spans.length;
    } catch (err) {
      dropped += spans.length;
      onDrop?.(spans.length);
      onExportError?.(err as Error);
    }
  }

  function flush(): Promise<void> {
    if (sending) return sending.then(flush);
    if (queue.length === 0) return Promise.resolve();
    const batch = queue.splice(0, batchSize);
    sending = send(batch).finally(() => (sending = undefined));
    return sending.then(() => (queue.length ? flush() : undefined));
  }

  return {
    onRequestStart(ctx) {
      const h = ctx.req.headers;
      const w3c = parseTraceparent(typeof h.traceparent === 'string' ? h.traceparent : undefined);
      const xray = w3c ? undefined : parseXrayHeader(typeof h['x-amzn-trace-id'] === 'string' ? h['x-amzn-trace-id'] : undefined);
      const parent = w3c ?? xray;
      const traceId = parent?.traceId ?? hex(16);
      const spanId = hex(8);
      const sampled = parent?.sampled ?? random() < sampleRatio;
      const state: TraceState = {
        traceId,
        spanId,
        parentSpanId: parent?.parentId ?? '',
        sampled,
        startEpochMs: clock.now(),
        marks: [],
      };
      ctx.extensions[TRACE_EXTENSION] = state;
      // The upstream sees this request's span as its parent; tracestate (vendor data) passes through unchanged.
      h.traceparent = `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
      h['x-amzn-trace-id'] = `Root=${xrayTraceId(traceId)};Parent=${spanId};Sampled=${sampled ? 1 : 0}`;
    },
    onPhase(ctx, phase) {
      const t = ctx.extensions[TRACE_EXTENSION] as TraceState | undefined;
      if (t?.sampled) t.marks.push([phase === 'route' ? 'route.matched' : 'integration.start', performance.now() - ctx.startedAt]);
    },
    onRequestEnd(ctx) {
      const t = ctx.extensions[TRACE_EXTENSION] as TraceState | undefined;
      if (!t?.sampled || closed) return;
      if (queue.length >= maxQueue) {
        dropped++;
        onDrop?.(1);
        return;
      }
      const start = t.startEpochMs;
      const duration = ctx.responseLatency >= 0 ? ctx.responseLatency : performance.now() - ctx.startedAt;
      const events: OtlpSpan['events'] = [];
      let integrationStart = -1;
      for (const [name, at] of t.marks) {
        events.push({ timeUnixNano: nanos(start + at), name, attributes: [] });
        if (name === 'integration.start') integrationStart = at;
      }
      for (const phase of ['authenticate', 'authorize'] as const) {
        const latency = ctx.extensions[`${phase}.latency`];
        if (typeof latency === 'number') {
          const status = ctx.extensions[`${phase}.status`];
          events.push({ timeUnixNano: nanos(start), name: phase, attributes: [i('duration_ms', latency), ...(typeof status === 'number' ? [i('status', status)] : [])] });
        }
      }
      if (integrationStart >= 0 && ctx.integration.latency >= 0) {
        events.push({
          timeUnixNano: nanos(start + integrationStart + ctx.integration.latency),
          name: 'integration.end',
          attributes: [i('duration_ms', ctx.integration.latency), i('status', ctx.integration.status)],
        });
      }
      const type = ctx.error.responseType;
      if (type) events.push({ timeUnixNano: nanos(start + duration), name: 'gateway.response', attributes: [s('type', type)] });
      events.sort((a, b) => (BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1));

      const attributes: Attr[] = [
        s('http.request.method', ctx.httpMethod),
        s('url.path', ctx.rawPath),
        i('http.response.status_code', ctx.status),
        s('client.address', ctx.identity.sourceIp),
        s('network.protocol.version', ctx.req.httpVersion),
        s('portcullis.request_id', ctx.requestId),
      ];
      if (ctx.resourcePath) attributes.push(s('http.route', ctx.resourcePath));
      if (ctx.domainName) attributes.push(s('server.address', ctx.domainName));
      if (ctx.identity.userAgent) attributes.push(s('user_agent.original', ctx.identity.userAgent));
      if (ctx.apiName) attributes.push(s('portcullis.api', ctx.apiName), s('portcullis.api_id', ctx.apiId));
      if (ctx.stage) attributes.push(s('portcullis.stage', ctx.stage));
      if (ctx.identity.apiKeyId) attributes.push(s('portcullis.api_key_id', ctx.identity.apiKeyId));
      if (type) attributes.push(s('error.type', type));
      queue.push({
        traceId: t.traceId,
        spanId: t.spanId,
        ...(t.parentSpanId ? { parentSpanId: t.parentSpanId } : {}),
        // Without a route the raw path would make span names unbounded: the method alone (OTel HTTP conventions).
        name: ctx.resourcePath ? `${ctx.httpMethod} ${ctx.resourcePath}` : ctx.httpMethod,
        kind: 2,
        startTimeUnixNano: nanos(start),
        endTimeUnixNano: nanos(start + duration),
        attributes,
        events,
        // OTel HTTP semantic conventions: a server span is an error for 5xx only.
        status: ctx.status >= 500 ? { code: 2, ...(type ? { message: type } : {}) } : { code: 0 },
      });
      if (queue.length >= batchSize) void flush();
    },
    flush,
    get droppedSpans() {
      return dropped;
    },
    get exportedSpans() {
      return exported;
    },
    async close() {
      clearInterval(timer);
      await flush();
      closed = true;
    },
  };
}
