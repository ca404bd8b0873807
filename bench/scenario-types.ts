// What bench/run.ts hands the scenario modules (api-keys.ts, https.ts, iam.ts, observability.ts): one result row
// type and one set of helpers, declared once.
import type { ChildProcess } from 'node:child_process';

export interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time (user + system) of the process under test per request, µs: steadier than req/s on a shared machine. */
  cpuUs?: number;
}

export interface Helpers {
  /** The bench upstream's origin. */
  upstream: string;
  /** A directory for this run's files. */
  tmp: string;
  /** Alternating pass-through / key run pairs per key scenario (--key-rounds, default 1). */
  keyRounds: number;
  /** The bootstrap admin token every bench gateway starts with. */
  adminToken: string;
  /** The pass-through definition (one http_proxy route, access log on), with `routes` routes in all. */
  definition(upstream: string): { settings: Record<string, unknown>; apis: Array<{ name: string; stages: object; routes: object[] } & Record<string, unknown>> };
  startGateway(name: string, def: object, env?: Record<string, string>, extraArgs?: string[]): Promise<{ url: string; adminUrl: string; proc: ChildProcess }>;
  freePort(): Promise<number>;
  waitPort(port: number): Promise<void>;
  stop(p: ChildProcess): Promise<void>;
  load(name: string, url: string, opts?: { headers?: Record<string, string>; pid?: number }): Promise<Result>;
  rssMb(pid: number): number;
}
