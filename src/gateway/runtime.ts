// The data plane's runtime: holds the installed Snapshot (swapped by one assignment), compiles new
// ones for the control plane, and feeds finished requests to the access log and metrics.
import type { Definition } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import type { RequestContext } from './pipeline/context.ts';
import type { SnapshotInstaller } from './runtime-port.ts';
import { compileSnapshot, type Snapshot } from './snapshot.ts';
import { STAGE_FACTORIES, type StageDeps } from './stages/index.ts';
import type { RequestObserver } from './dispatch.ts';
import type { UpstreamPools } from './integrations/upstream-pools.ts';
import type { ExecutionLog } from '../observe/execution-log.ts';

export interface RuntimeMetrics {
  record(ctx: RequestContext): void;
  setActiveRevision?(revision: number): void;
}

export interface RuntimeAccessLog {
  write(line: string): void;
}

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
}

export interface GatewayRuntime extends SnapshotInstaller, RequestObserver {
  snapshot(): Snapshot | undefined;
}

export function createGatewayRuntime(options: GatewayRuntimeOptions): GatewayRuntime {
  let current: Snapshot | undefined;
  const { metrics, accessLog, executionLog } = options;
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
      metrics?.setActiveRevision?.(snapshot.revision);
      options.onInstall?.(current);
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
      if (format && accessLog) accessLog.write(format(ctx));
      executionLog?.onRequestEnd(ctx);
    },
  };
}
