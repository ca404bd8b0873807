// Tracing settings of a node: StartOptions.tracing, else the standard OpenTelemetry variables
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME,
// OTEL_TRACES_SAMPLER_ARG). No endpoint: tracing is off and requests carry no tracing cost.
import type { Clock } from '../core/clock.ts';
import { createTracer, type Tracer } from './tracing.ts';

export interface TracingSettings {
  /** OTLP/HTTP traces URL (http://collector:4318/v1/traces). */
  readonly endpoint: string;
  readonly serviceName?: string;
  /** 0..1, the share of new traces sampled (default 1). */
  readonly sampleRatio?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export function tracingSettingsFromEnv(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : '');
  if (!endpoint) return undefined;
  const ratio = env.OTEL_TRACES_SAMPLER_ARG;
  if (ratio !== undefined && !(Number(ratio) >= 0 && Number(ratio) <= 1)) {
    throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got ${JSON.stringify(ratio)}`);
  }
  const headers: Record<string, string> = {};
  for (const pair of (env.OTEL_EXPORTER_OTLP_HEADERS ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) headers[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return {
    endpoint,
    ...(env.OTEL_SERVICE_NAME ? { serviceName: env.OTEL_SERVICE_NAME } : {}),
    ...(ratio !== undefined ? { sampleRatio: Number(ratio) } : {}),
    headers,
  };
}

export function tracerFromSettings(
  settings: TracingSettings | undefined,
  env: NodeJS.ProcessEnv,
  deps: { clock: Clock; onDrop?: (n: number) => void; onExportError?: (err: Error) => void },
): Tracer | undefined {
  const s = settings ?? tracingSettingsFromEnv(env);
  if (!s) return undefined;
  return createTracer({ ...s, ...deps });
}
