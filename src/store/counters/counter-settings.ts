// Counter-store settings a node takes from its environment (docs/api-keys.md, "When Redis is down"): key
// prefix, command timeout, and the fail modes of throttles and quotas. Bad values stop the start, named.
import type { FailMode } from './ports.ts';

export interface CounterEnvSettings {
  readonly prefix?: string;
  readonly commandTimeoutMs?: number;
  readonly failMode: FailMode;
  readonly quotaFailMode: FailMode;
}

function failMode(env: NodeJS.ProcessEnv, name: string): FailMode {
  const raw = env[name];
  if (raw === undefined || raw === '') return 'open';
  const v = raw.trim().toLowerCase();
  if (v === 'open' || v === 'closed') return v;
  throw new Error(`${name}: expected "open" or "closed", got ${JSON.stringify(raw)}`);
}

/**
 * PORTCULLIS_COUNTERS_PREFIX (Redis key prefix), PORTCULLIS_COUNTERS_TIMEOUT_MS (default 100),
 * PORTCULLIS_COUNTERS_FAIL_MODE (throttles, default open, as AWS) and PORTCULLIS_COUNTERS_QUOTA_FAIL_MODE
 * (quotas, default open).
 */
export function counterSettingsFromEnv(env: NodeJS.ProcessEnv): CounterEnvSettings {
  const timeout = env.PORTCULLIS_COUNTERS_TIMEOUT_MS;
  let commandTimeoutMs: number | undefined;
  if (timeout !== undefined && timeout !== '') {
    commandTimeoutMs = Number(timeout);
    if (!Number.isInteger(commandTimeoutMs) || commandTimeoutMs <= 0) {
      throw new Error(`PORTCULLIS_COUNTERS_TIMEOUT_MS: expected a positive whole number of milliseconds, got ${JSON.stringify(timeout)}`);
    }
  }
  return {
    ...(env.PORTCULLIS_COUNTERS_PREFIX ? { prefix: env.PORTCULLIS_COUNTERS_PREFIX } : {}),
    ...(commandTimeoutMs !== undefined ? { commandTimeoutMs } : {}),
    failMode: failMode(env, 'PORTCULLIS_COUNTERS_FAIL_MODE'),
    quotaFailMode: failMode(env, 'PORTCULLIS_COUNTERS_QUOTA_FAIL_MODE'),
  };
}

/** "throttles fail open, quotas fail closed": for the outage log line and /readyz. */
export function describeFailModes(s: Pick<CounterEnvSettings, 'failMode' | 'quotaFailMode'>): string {
  return `throttles fail ${s.failMode}, quotas fail ${s.quotaFailMode}`;
}
