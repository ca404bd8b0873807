// Counter-store settings a node takes from its environment (docs/api-keys.md, "When Redis is down"): key
// prefix, command timeout, and the fail modes of throttles and quotas. Bad values stop the start, named.
import type { CounterStore, FailMode } from './ports.ts';
import { DEFAULT_MAX_LEASE, DEFAULT_RECONCILE_MS } from './leased-counters.ts';

export interface CounterEnvSettings {
  readonly prefix?: string;
  readonly commandTimeoutMs?: number;
  readonly failMode: FailMode;
  readonly quotaFailMode: FailMode;
  /** 'approximate': local leases reconciled with Redis (leased-counters.ts); Redis only. */
  readonly mode: CounterMode;
  readonly maxLease?: number;
  readonly reconcileIntervalMs?: number;
}

export type CounterMode = 'exact' | 'approximate';

function failMode(env: NodeJS.ProcessEnv, name: string): FailMode {
  const raw = env[name];
  if (raw === undefined || raw === '') return 'open';
  const v = raw.trim().toLowerCase();
  if (v === 'open' || v === 'closed') return v;
  throw new Error(`${name}: expected "open" or "closed", got ${JSON.stringify(raw)}`);
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, unit: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive whole number of ${unit}, got ${JSON.stringify(raw)}`);
  return n;
}

function counterMode(env: NodeJS.ProcessEnv): CounterMode {
  const raw = env.PORTCULLIS_COUNTERS_MODE;
  if (raw === undefined || raw === '') return 'exact';
  const v = raw.trim().toLowerCase();
  if (v === 'exact' || v === 'approximate') return v;
  throw new Error(`PORTCULLIS_COUNTERS_MODE: expected "exact" or "approximate", got ${JSON.stringify(raw)}`);
}

/**
 * PORTCULLIS_COUNTERS_PREFIX (Redis key prefix), PORTCULLIS_COUNTERS_TIMEOUT_MS (default 100),
 * PORTCULLIS_COUNTERS_FAIL_MODE (throttles, default open, as AWS), PORTCULLIS_COUNTERS_QUOTA_FAIL_MODE
 * (quotas, default open), and PORTCULLIS_COUNTERS_MODE (exact, the default, or approximate) with PORTCULLIS_COUNTERS_LEASE_MAX
 * (default 100) and PORTCULLIS_COUNTERS_RECONCILE_MS (default 1000) for the approximate mode.
 */
export function counterSettingsFromEnv(env: NodeJS.ProcessEnv): CounterEnvSettings {
  const commandTimeoutMs = positiveInt(env, 'PORTCULLIS_COUNTERS_TIMEOUT_MS', 'milliseconds');
  const maxLease = positiveInt(env, 'PORTCULLIS_COUNTERS_LEASE_MAX', 'tokens');
  const reconcileIntervalMs = positiveInt(env, 'PORTCULLIS_COUNTERS_RECONCILE_MS', 'milliseconds');
  return {
    ...(env.PORTCULLIS_COUNTERS_PREFIX ? { prefix: env.PORTCULLIS_COUNTERS_PREFIX } : {}),
    ...(commandTimeoutMs !== undefined ? { commandTimeoutMs } : {}),
    failMode: failMode(env, 'PORTCULLIS_COUNTERS_FAIL_MODE'),
    quotaFailMode: failMode(env, 'PORTCULLIS_COUNTERS_QUOTA_FAIL_MODE'),
    mode: counterMode(env),
    ...(maxLease !== undefined ? { maxLease } : {}),
    ...(reconcileIntervalMs !== undefined ? { reconcileIntervalMs } : {}),
  };
}

/** "throttles fail open, quotas fail closed": for the outage log line and /readyz. */
export function describeFailModes(s: Pick<CounterEnvSettings, 'failMode' | 'quotaFailMode'>): string {
  return `throttles fail ${s.failMode}, quotas fail ${s.quotaFailMode}`;
}

/** "in-process", "redis 127.0.0.1:6379 (exact)" or "redis ... (approximate, leases <= 100, reconciled every 1000 ms)". */
export function describeCounters(counters: CounterStore & { readonly location?: string }, s: Pick<CounterEnvSettings, 'mode' | 'maxLease' | 'reconcileIntervalMs'>): string {
  if (counters.kind === 'memory') return 'in-process';
  const where = `redis ${counters.location ?? ''}`.trimEnd();
  return s.mode === 'approximate'
    ? `${where} (approximate, leases <= ${s.maxLease ?? DEFAULT_MAX_LEASE}, reconciled every ${s.reconcileIntervalMs ?? DEFAULT_RECONCILE_MS} ms)`
    : `${where} (exact)`;
}
