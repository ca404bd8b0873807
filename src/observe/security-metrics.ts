// Prometheus metrics beyond AWS's five: throttles and quota refusals per usage plan, authentication failures by
// reason, upstream errors by kind (recorded from the finished request), store health (read at scrape time;
// counter-store health is observe/counter-metrics.ts), and the authorizers' result-cache hits and misses and JWKS
// refreshes (recorded by the authorizer stages through stageDeps.authorizerMetrics). Every label is bounded by the
// definition or a fixed list; docs/metrics.md lists them.
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { RequestContext } from '../gateway/pipeline/context.ts';

/** Denials counted as authentication or authorization failures (the `reason` label). */
export const AUTH_FAILURE_REASONS = [
  'UNAUTHORIZED',
  'INVALID_API_KEY',
  'INVALID_SIGNATURE',
  'EXPIRED_TOKEN',
  'MISSING_AUTHENTICATION_TOKEN',
  'ACCESS_DENIED',
  'AUTHORIZER_FAILURE',
  'AUTHORIZER_CONFIGURATION_ERROR',
] as const;
const AUTH_REASONS: ReadonlySet<string> = new Set(AUTH_FAILURE_REASONS);

export interface SecurityMetricsOptions {
  readonly registry: Registry;
  /** Pings the store; read at scrape time with a 1 s limit. */
  readonly storePing?: () => Promise<unknown>;
  /** false (PORTCULLIS_METRICS=off): per-request counts, such as authorizer cache hits, are not kept. */
  readonly perRequest?: boolean;
}

/**
 * Result-cache outcomes of one authorizer on one API, as plain numbers: the request path increments a field
 * (no prom-client label hashing, see observe/metrics.ts); the registry reads them at scrape time.
 */
export interface AuthorizerCacheCounter {
  hits: number;
  misses: number;
}

export type JwksRefreshResult = 'ok' | 'error';

/** What the authorizer stages record; reaches them as stageDeps.authorizerMetrics. */
export interface AuthorizerMetrics {
  /**
   * The counter of (api, authorizer), both names from the definition; called when a route is compiled, never per
   * request. Every call for the same pair returns the same object. undefined: cache outcomes are not counted.
   */
  cacheCounter(api: string, authorizer: string): AuthorizerCacheCounter | undefined;
  /** Declares a JWKS key source (compile time) so both results are reported, at 0, before its first fetch. */
  jwksSource(authorizer: string, issuer: string): (result: JwksRefreshResult) => void;
}

export interface SecurityMetrics {
  record(ctx: RequestContext): void;
  countTraceSpansDropped(n: number): void;
  countAuditSinkDrop(n: number): void;
  readonly authorizers: AuthorizerMetrics;
}

export function createSecurityMetrics({ registry, storePing, perRequest = true }: SecurityMetricsOptions): SecurityMetrics {
  const throttled = new Counter({
    name: 'portcullis_throttled_requests_total',
    help: 'Requests refused 429, by usage plan ("-" for stage, route and account throttles) and reason (THROTTLED or QUOTA_EXCEEDED).',
    labelNames: ['plan', 'reason'],
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'portcullis_auth_failures_total',
    help: 'Requests refused for their credentials or by an authorization decision, by gateway response type.',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const reason of AUTH_FAILURE_REASONS) authFailures.inc({ reason }, 0);
  const upstreamErrors = new Counter({
    name: 'portcullis_upstream_errors_total',
    help: 'Integration failures by API and kind: timeout, connection (refused, reset, TLS), status_5xx (the upstream answered 5xx).',
    labelNames: ['api', 'kind'],
    registers: [registry],
  });
  const spansDropped = new Counter({
    name: 'portcullis_trace_spans_dropped_total',
    help: 'Trace spans dropped because the OTLP collector was slow, failing or the queue was full.',
    registers: [registry],
  });
  const auditDropped = new Counter({
    name: 'portcullis_audit_sink_dropped_total',
    help: 'Audit events not copied to a live sink (file or webhook) because it could not keep up; the store keeps them all.',
    registers: [registry],
  });
  if (storePing) {
    new Gauge({
      name: 'portcullis_store_up',
      help: '1 when the store (SQLite or PostgreSQL) answered a ping at scrape time within 1 s, else 0.',
      registers: [registry],
      async collect() {
        let timer: NodeJS.Timeout | undefined;
        const ok = await Promise.race([
          storePing().then(() => true, () => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1000))),
        ]);
        clearTimeout(timer);
        this.set(ok ? 1 : 0);
      },
    });
  }

  const authorizers = createAuthorizerMetrics(registry, perRequest);

  return {
    authorizers,
    record(ctx) {
      const type = ctx.error.responseType;
      if (type === '') {
        if (ctx.integration.status >= 500) upstreamErrors.inc({ api: ctx.apiName || '-', kind: 'status_5xx' });
        return;
      }
      if (type === 'THROTTLED' || type === 'QUOTA_EXCEEDED') {
        const usage = ctx.extensions.usagePlan as { plan?: { name?: string } } | undefined;
        throttled.inc({ plan: usage?.plan?.name ?? '-', reason: type });
      } else if (AUTH_REASONS.has(type)) {
        // Without a route, MISSING_AUTHENTICATION_TOKEN means "no such resource" (reference section 13.1).
        if (type !== 'MISSING_AUTHENTICATION_TOKEN' || ctx.route) authFailures.inc({ reason: type });
      } else if (type === 'INTEGRATION_TIMEOUT') {
        upstreamErrors.inc({ api: ctx.apiName || '-', kind: 'timeout' });
      } else if (type === 'INTEGRATION_FAILURE') {
        upstreamErrors.inc({ api: ctx.apiName || '-', kind: 'connection' });
      }
    },
    countTraceSpansDropped(n) {
      spansDropped.inc(n);
    },
    countAuditSinkDrop(n) {
      auditDropped.inc(n);
    },
  };
}

function createAuthorizerMetrics(registry: Registry, perRequest: boolean): AuthorizerMetrics {
  const cells = new Map<string, { readonly labels: { api: string; authorizer: string }; readonly counter: AuthorizerCacheCounter }>();
  const name = 'portcullis_authorizer_cache_total';
  const help =
    'Authorizer result-cache lookups by API, authorizer and result: hit (answered from the cache or by a call already in flight), miss (the authorizer was called or the token verified). Authorizers with the cache off are not counted.';
  // prom-client's Registry formats any object with name/help/type/get() (as observe/metrics.ts does).
  const cacheMetric = {
    name,
    help,
    type: 'counter' as const,
    aggregator: 'sum' as const,
    async get() {
      const values: { value: number; labels: Record<string, string> }[] = [];
      for (const { labels, counter } of cells.values()) {
        values.push({ value: counter.hits, labels: { ...labels, result: 'hit' } });
        values.push({ value: counter.misses, labels: { ...labels, result: 'miss' } });
      }
      return { name, help, type: 'counter' as const, aggregator: 'sum' as const, values };
    },
    reset() {
      for (const { counter } of cells.values()) counter.hits = counter.misses = 0;
    },
  };
  registry.registerMetric(cacheMetric as unknown as Metric);
  const jwksRefreshes = new Counter({
    name: 'portcullis_jwks_refreshes_total',
    help: 'JWKS fetches by JWT/Cognito authorizer, issuer and result: ok (a key set was loaded) or error (network, timeout, HTTP status other than 200, too large, not a JWK set, failed discovery).',
    labelNames: ['authorizer', 'issuer', 'result'],
    registers: [registry],
  });
  return {
    cacheCounter(api, authorizer) {
      if (!perRequest) return undefined;
      const key = `${api}\n${authorizer}`;
      let cell = cells.get(key);
      if (cell === undefined) cells.set(key, (cell = { labels: { api, authorizer }, counter: { hits: 0, misses: 0 } }));
      return cell.counter;
    },
    jwksSource(authorizer, issuer) {
      const ok = jwksRefreshes.labels({ authorizer, issuer, result: 'ok' });
      const error = jwksRefreshes.labels({ authorizer, issuer, result: 'error' });
      ok.inc(0);
      error.inc(0);
      return (result) => (result === 'ok' ? ok : error).inc();
    },
  };
}
