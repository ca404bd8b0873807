// Opens the counters adapter named by a spec: 'memory' (in-process, the default) or a redis:// / rediss://
// URL (shared by every gateway node).
import { createMemoryCounters } from './memory-counters.ts';
import type { CounterStore } from './ports.ts';
import type { RedisCountersOptions } from './redis-counters.ts';
import type { LeasedCountersOptions } from './leased-counters.ts';
import type { CounterMode } from './counter-settings.ts';

export type CountersSpec = 'memory' | `redis://${string}` | `rediss://${string}`;

/** Redis options (prefix, failMode, onHealthChange...) at the top level; the memory adapter uses only clock. */
export interface OpenCountersOptions extends RedisCountersOptions, Omit<LeasedCountersOptions, 'clock'> {
  /** Redis only: 'approximate' spends leases locally and reconciles them (docs/api-keys.md). */
  readonly mode?: CounterMode;
  /** Memory adapter: how often full buckets and ended quota windows are dropped. */
  readonly sweepIntervalMs?: number;
}

export function isCountersSpec(spec: string): spec is CountersSpec {
  return spec === 'memory' || spec.startsWith('redis://') || spec.startsWith('rediss://');
}

export async function openCounters(spec: string, options: OpenCountersOptions = {}): Promise<CounterStore> {
  if (spec === 'memory') {
    if (options.mode === 'approximate') {
      throw new Error('counters: the approximate mode (PORTCULLIS_COUNTERS_MODE=approximate) needs Redis counters; in-process counters are exact and local already');
    }
    return createMemoryCounters({ clock: options.clock, sweepIntervalMs: options.sweepIntervalMs });
  }
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) {
    // Loaded on demand: a single node with in-process counters never pays for the Redis client.
    const { openRedisCounters } = await import('./redis-counters.ts');
    const redis = await openRedisCounters(spec, options);
    if (options.mode !== 'approximate') return redis;
    const { LeasedCounters } = await import('./leased-counters.ts');
    return new LeasedCounters(redis, options);
  }
  // Only the scheme: the rest of a URL may hold a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(spec)?.[0] ?? '(no scheme)';
  throw new Error(`counters: unknown store ${JSON.stringify(scheme)}: expected "memory" or a redis:// or rediss:// URL`);
}
