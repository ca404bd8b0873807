// Prometheus metrics named after Amazon API Gateway's CloudWatch metrics (Count, 4XXError, 5XXError,
// Latency, IntegrationLatency) plus gateway health. docs/metrics.md documents every metric and label.
import { VERSION } from '../core/version.ts';
import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { RequestContext, RouteRef } from '../gateway/pipeline/context.ts';

/** Milliseconds: from a cache hit to the 29 s AWS integration ceiling and just past it. */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
]);

export const REQUEST_LABELS = ['api', 'stage', 'method', 'resource'] as const;
type RequestLabels = Record<(typeof REQUEST_LABELS)[number], string>;

export type ConfigReloadResult = 'success' | 'failure';

export interface GatewayMetricsOptions {
  /** Defaults to a new registry (not prom-client's global one, so tests and embedders stay isolated). */
  readonly registry?: Registry;
  /** prom-client's process_* and nodejs_* metrics. */
  readonly defaultMetrics?: boolean;
  /** portcullis_build_info{version}; defaults to package.json's version. */
  readonly version?: string;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** The log phase: one call per finished request. Allocation-free once the route was seen. */
  record(ctx: RequestContext): void;
  setActiveRevision(revision: number): void;
  countConfigReload(result: ConfigReloadResult): void;
  countAccessLogDrop(count?: number): void;
  /** Days until a custom domain's certificate (server chain or mTLS truststore) expires; negative once expired. */
  setCertificateExpiry(domain: string, certificate: 'server' | 'truststore', days: number): void;
  render(): Promise<string>;
}

/**
 * Per-request recording bypasses prom-client's labelled children: prom-client 15 re-hashes and
 * re-validates the label set on every inc()/observe() even through a child from labels() (about
 * 1.4 µs per request for these five metrics). We keep one plain Series object per label set, reached
 * through a WeakMap on the compiled route, and hand the values to the registry at scrape time.
 */
interface Series {
  readonly labels: RequestLabels;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  readonly latency: HistogramData;
  readonly integrationLatency: HistogramData;
}

interface HistogramData {
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export function createGatewayMetrics({
  registry = new Registry(),
  defaultMetrics = true,
  version = packageVersion(),
}: GatewayMetricsOptions = {}): GatewayMetrics {
  const bounds = LATENCY_BUCKETS_MS;
  /** The canonical series by label key: routes of successive snapshots share their series. */
  const byKey = new Map<string, Series>();
  /** Fast path: compiled route object -> method -> series; dropped with the snapshot that owns it. */
  const byRoute = new WeakMap<RouteRef, Map<string, Series>>();

  function seriesFor(api: string, stage: string, method: string, resource: string): Series {
    const key = `${api}\n${stage}\n${method}\n${resource}`;
    let s = byKey.get(key);
    if (!s) {
      s = {
        labels: { api, stage, method, resource },
        requests: 0,
        errors4xx: 0,
        errors5xx: 0,
        latency: newHistogram(bounds.length),
        integrationLatency: newHistogram(bounds.length),
      };
      byKey.set(key, s);
    }
    return s;
  }

  function lookup(ctx: RequestContext): Series {
    const method = KNOWN_METHODS.has(ctx.httpMethod) ? ctx.httpMethod : 'OTHER';
    const route = ctx.route;
    if (route) {
      let perMethod = byRoute.get(route);
      if (!perMethod) byRoute.set(route, (perMethod = new Map()));
      let s = perMethod.get(method);
      if (!s) perMethod.set(method, (s = seriesFor(route.apiName || route.apiId, route.stageName, method, route.resourcePath)));
      return s;
    }
    // No route: the stage name may be whatever the client put in the path, so only the API (named by
    // the definition) is kept; the label set stays bounded by the definition, not by traffic.
    return seriesFor(ctx.apiName || '-', '-', method, '-');
  }

  const help = (metric: string, aws: string): string => `${metric} (Amazon API Gateway ${aws}).`;
  const metrics: SeriesMetric[] = [
    seriesCounter('portcullis_requests_total', help('Requests received', 'Count'), byKey, 'requests'),
    seriesCounter('portcullis_4xx_errors_total', help('Responses with a 4xx status', '4XXError'), byKey, 'errors4xx'),
    seriesCounter('portcullis_5xx_errors_total', help('Responses with a 5xx status', '5XXError'), byKey, 'errors5xx'),
    seriesHistogram(
      'portcullis_latency_ms',
      help('Milliseconds from receiving a request to finishing its response', 'Latency'),
      byKey,
      bounds,
      (s) => s.latency,
    ),
    seriesHistogram(
      'portcullis_integration_latency_ms',
      help('Milliseconds the integration (upstream) took', 'IntegrationLatency'),
      byKey,
      bounds,
      (s) => s.integrationLatency,
    ),
  ];
  // prom-client's Registry formats any object with name/help/type/get(); its TypeScript type only
  // names its own classes.
  for (const m of metrics) registry.registerMetric(m as unknown as Metric);

  const buildInfo = new Gauge({
    name: 'portcullis_build_info',
    help: 'Always 1; labels say which Portcullis and Node.js are running.',
    labelNames: ['version', 'nodejs'],
    registers: [registry],
  });
  buildInfo.set({ version, nodejs: process.version }, 1);
  const activeRevision = new Gauge({
    name: 'portcullis_active_revision',
    help: 'Revision number of the installed configuration snapshot (0 before the first deploy).',
    registers: [registry],
  });
  activeRevision.set(0);
  const reloads = new Counter({
    name: 'portcullis_config_reloads_total',
    help: 'Configuration deploys and reloads, by result (failure: the revision was rejected whole).',
    labelNames: ['result'],
    registers: [registry],
  });
  reloads.inc({ result: 'success' }, 0);
  reloads.inc({ result: 'failure' }, 0);
  const accessLogDropped = new Counter({
    name: 'portcullis_access_log_dropped_total',
    help: 'Access-log lines dropped because the destination could not keep up or failed.',
    registers: [registry],
  });
  const certificateExpiry = new Gauge({
    name: 'portcullis_certificate_expiry_days',
    help: 'Days until the earliest notAfter of a custom domain\'s served chain or truststore (negative: expired).',
    labelNames: ['domain', 'certificate'],
    registers: [registry],
  });
  if (defaultMetrics) collectDefaultMetrics({ register: registry });

  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    record(ctx) {
      const s = lookup(ctx);
      s.requests++;
      const status = ctx.status;
      if (status >= 400) {
        if (status < 500) s.errors4xx++;
        else if (status < 600) s.errors5xx++;
      }
      if (ctx.responseLatency >= 0) observe(s.latency, bounds, ctx.responseLatency);
      if (ctx.integration.latency >= 0) observe(s.integrationLatency, bounds, ctx.integration.latency);
    },
    setActiveRevision(revision) {
      activeRevision.set(revision);
    },
    countConfigReload(result) {
      reloads.inc({ result });
    },
    countAccessLogDrop(count = 1) {
      accessLogDropped.inc(count);
    },
    setCertificateExpiry(domain, certificate, days) {
      certificateExpiry.set({ domain, certificate }, Math.round(days * 100) / 100);
    },
    render: () => registry.metrics(),
  };
}

function newHistogram(buckets: number): HistogramData {
  return { counts: new Float64Array(buckets + 1), sum: 0, count: 0 };
}

function observe(h: HistogramData, bounds: readonly number[], v: number): void {
  let i = 0;
  while (i < bounds.length && v > bounds[i]) i++; // `le` semantics: v == bound counts in that bucket
  h.counts[i]++;
  h.sum += v;
  h.count++;
}

// ---------------------------------------------------------------------------------------------------
// Registry adapters: the shape prom-client's Registry reads (name, help, type, aggregator, get, reset).

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface SeriesMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: MetricValue[] }>;
  reset(): void;
}

type CounterField = 'requests' | 'errors4xx' | 'errors5xx';

function seriesCounter(name: string, help: string, all: Map<string, Series>, field: CounterField): SeriesMetric {
  return {
    name,
    help,
    type: 'counter',
    aggregator: 'sum',
    async get() {
      const values: MetricValue[] = [];
      for (const s of all.values()) values.push({ value: s[field], labels: s.labels });
      return { name, help, type: 'counter', aggregator: 'sum', values };
    },
    reset() {
      for (const s of all.values()) s[field] = 0;
    },
  };
}

function seriesHistogram(
  name: string,
  help: string,
  all: Map<string, Series>,
  bounds: readonly number[],
  pick: (s: Series) => HistogramData,
): SeriesMetric {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: MetricValue[] = [];
      for (const s of all.values()) {
        const h = pick(s);
        let acc = 0;
        for (let i = 0; i < bounds.length; i++) {
          acc += h.counts[i];
          values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le: bounds[i] }, value: acc });
        }
        values.push({ metricName: `${name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: h.count });
        values.push({ metricName: `${name}_sum`, labels: s.labels, value: h.sum });
        values.push({ metricName: `${name}_count`, labels: s.labels, value: h.count });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {
      for (const s of all.values()) {
        const h = pick(s);
        h.counts.fill(0);
        h.sum = 0;
        h.count = 0;
      }
    },
  };
}

function packageVersion(): string {
  return VERSION;
}
