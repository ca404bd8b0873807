// The data plane's runtime: holds the installed Snapshot (swapped by one assignment), compiles new
// ones for the control plane, and feeds finished requests to the access log and metrics.
import type { Definition } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import type { RequestContext } from './pipeline/context.ts';
import type { SnapshotInstaller } from './runtime-port.ts';
import { compileSnapshot, type Snapshot } from './snapshot.ts';
import { collectGarbageSoon } from '../core/heap.ts';
import { STAGE_FACTORIES, type StageDeps } from './stages/index.ts';
import type { RequestObserver } from './dispatch.ts';
import type { UpstreamPools } from './integrations/upstream-pools.ts';
import type { ExecutionLog } from '../observe/execution-log.ts';

export interface RuntimeMetrics {
  record(ctx: RequestContext): void;
  setActiveRevision?(revision: number): void;
}

export interface RuntimeAccessLog {
  /** Formats and writes the record of one finished request. */
  log(ctx: RequestContext, format: (ctx: RequestContext) => string): void;
}

/** From this size on, a deploy is followed by one full GC (src/core/heap.ts). */
const LARGE_DEFINITION_ROUTES = 1000;

export interface GatewayRuntimeOptions {
  readonly clock: Clock;
  readonly pools: UpstreamPools;
  readonly stageDeps: StageDeps;
  readonly metrics?: RuntimeMetrics;
  readonly accessLog?: RuntimeAccessLog;
  /** Execution logs per stage (observe/execution-log.ts); absent: none. */
  readonly executionLog?: ExecutionLog;
  /** Called after a snapshot is installed. */
  readonly onInstall?: (snapshot: Snapshot) => void;
  /** Alarms and anomaly detection (observe/alarms/monitor.ts): fed in the log phase, screens blocked sources. */
  readonly monitor?: RuntimeMonitor;
  /** Tracing (observe/tracing.ts): a span per request, traceparent propagated to upstreams. */
  readonly tracer?: RuntimeTracer;
}

export interface RuntimeMonitor {
  configure(definition: Definition): void;
  onRequestEnd(ctx: RequestContext): void;
  screen(ctx: RequestContext): import('../core/denial.ts').Denial | undefined;
}

export interface RuntimeTracer {
  onRequestStart(ctx: RequestContext): void;
  onPhase(ctx: RequestContext, phase: 'route' | 'integration'): void;
  onRequestEnd(ctx: RequestContext): void;
}

export interface GatewayRuntime extends SnapshotInstaller, RequestObserver {
  snapshot(): Snapshot | undefined;
}

export function createGatewayRuntime(options: GatewayRuntimeOptions): GatewayRuntime {
  let current: Snapshot | undefined;
  const { metrics, accessLog, executionLog, monitor, tracer } = options;
  return {
    snapshot: () => current,
    current: () => current,
    compile(definition: Definition, revision: number) {
      return compileSnapshot(definition, revision, {
        stageFactories: STAGE_FACTORIES,
        stageDeps: options.stageDeps,
        pools: options.pools,
      });
    },
    install(snapshot) {
      current = snapshot as Snapshot;
      executionLog?.configure(current.definition);
      monitor?.configure(current.definition);
      metrics?.setActiveRevision?.(snapshot.revision);
      options.onInstall?.(current);
      if (current.routeCount >= LARGE_DEFINITION_ROUTES) collectGarbageSoon();
    },
    onRequestEnd(ctx, format) {
      const res = ctx.res;
      ctx.status = res.writableFinished ? res.statusCode : ctx.status || res.statusCode;
      ctx.responseLatency = Math.round(performance.now() - ctx.startedAt);
      if (!ctx.responseLength) {
        const cl = res.getHeader('content-length');
        if (cl !== undefined) ctx.responseLength = Number(cl);
      }
      metrics?.record(ctx);
      if (format && accessLog) accessLog.log(ctx, format);
      executionLog?.onRequestEnd(ctx);
      monitor?.onRequestEnd(ctx);
      tracer?.onRequestEnd(ctx);
    },
    ...(tracer
      ? {
          onRequestStart: (ctx: RequestContext) => tracer.onRequestStart(ctx),
          onPhase: (ctx: RequestContext, phase: 'route' | 'integration') => tracer.onPhase(ctx, phase),
        }
      : {}),
    ...(monitor ? { screen: (ctx: RequestContext) => monitor.screen(ctx) } : {}),
  };
}
