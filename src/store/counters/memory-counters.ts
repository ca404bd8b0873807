// In-process counters (the default, single node): token buckets and quota windows in Maps, answered
// synchronously so the hot path allocates no promise. Exact within one process (JS runs one decision at a time).
import { systemClock, type Clock } from '../../core/clock.ts';
import { TOKEN_EPSILON, retryAfterMs, wholeTokens } from '../../security/token-bucket.ts';
import type { BucketDecision, BucketSpec, CombinedDecision, CounterHealth, CounterStore, QuotaDecision, QuotaRequest } from './ports.ts';

export interface MemoryCountersOptions {
  /** Only for health().since; decisions use the nowMs they are given. */
  readonly clock?: Clock;
  /**
   * How often (in the callers' nowMs time) full buckets and ended quota windows are dropped, so keys that
   * stop being used (revoked API keys, removed routes) do not stay in memory.
   */
  readonly sweepIntervalMs?: number;
}

/** Mutable on purpose: one object per bucket, updated in place on every decision. */
interface BucketEntry {
  tokens: number;
  updatedMs: number;
  rateLimit: number;
  burstLimit: number;
}

interface QuotaEntry {
  used: number;
  windowEndMs: number;
}

const ALLOWED_EMPTY: BucketDecision = Object.freeze({
  allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterMs: 0, deniedBy: -1,
});

export class MemoryCounters implements CounterStore {
  readonly kind = 'memory' as const;
  /** Usage records are counted by the caller (usage-recorder.ts) and written to the Store. */
  readonly countsUsage = false;
  readonly #buckets = new Map<string, BucketEntry>();
  readonly #quotas = new Map<string, QuotaEntry>();
  readonly #sweepIntervalMs: number;
  #nextSweepMs = Number.NEGATIVE_INFINITY;
  readonly #since: number;
  /** Refilled token counts of the current decision, reused across calls (no allocation per request). */
  #scratch: number[] = [];

  constructor({ clock = systemClock, sweepIntervalMs = 60_000 }: MemoryCountersOptions = {}) {
    this.#sweepIntervalMs = sweepIntervalMs;
    this.#since = clock.now();
  }

  takeBuckets(specs: readonly BucketSpec[], nowMs: number): BucketDecision {
    if (nowMs >= this.#nextSweepMs) this.#sweep(nowMs);
    const n = specs.length;
    if (n === 0) return ALLOWED_EMPTY;
    if (this.#scratch.length < n) this.#scratch = new Array<number>(n).fill(0);
    const tokens = this.#scratch;

    // Pass 1: refill (same arithmetic as token-bucket.ts refill(), kept inline to avoid allocating), decide.
    let deniedBy = -1;
    let worstWait = -1;
    let remaining = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const spec = specs[i];
      const cap = spec.burstLimit;
      const entry = this.#buckets.get(spec.key);
      let t: number;
      if (entry === undefined) {
        t = cap;
      } else {
        t = entry.tokens > cap ? cap : entry.tokens;
        if (nowMs > entry.updatedMs) {
          t += ((nowMs - entry.updatedMs) * spec.rateLimit) / 1000;
          if (t > cap) t = cap;
        }
      }
      tokens[i] = t;
      if (t + TOKEN_EPSILON < 1) {
        const wait = retryAfterMs(spec, t);
        if (wait > worstWait) {
          worstWait = wait;
          deniedBy = i;
          remaining = wholeTokens(t);
        }
      } else if (deniedBy < 0) {
        const left = wholeTokens(t - 1);
        if (left < remaining) remaining = left;
      }
    }
    if (deniedBy >= 0) return { allowed: false, remaining, retryAfterMs: worstWait, deniedBy };

    // Pass 2: every bucket allowed, consume one token from each.
    for (let i = 0; i < n; i++) {
      const spec = specs[i];
      const left = tokens[i] - 1;
      const t = left > 0 ? left : 0;
      const entry = this.#buckets.get(spec.key);
      if (entry === undefined) {
        this.#buckets.set(spec.key, { tokens: t, updatedMs: nowMs, rateLimit: spec.rateLimit, burstLimit: spec.burstLimit });
      } else {
        entry.tokens = t;
        // A clock that went backwards keeps the later time: the refill up to it is already credited.
        if (nowMs > entry.updatedMs) entry.updatedMs = nowMs;
        entry.rateLimit = spec.rateLimit;
        entry.burstLimit = spec.burstLimit;
      }
    }
    return { allowed: true, remaining, retryAfterMs: 0, deniedBy: -1 };
  }

  consumeQuota(key: string, limit: number, windowEndMs: number, nowMs: number): QuotaDecision {
    if (nowMs >= this.#nextSweepMs) this.#sweep(nowMs);
    const entry = this.#quotas.get(key);
    const live = entry !== undefined && entry.windowEndMs >= windowEndMs;
    const used = live ? entry.used : 0;
    if (used + 1 > limit) return { allowed: false, used, remaining: Math.max(0, limit - used) };
    if (live) entry.used = used + 1;
    else if (entry !== undefined) { entry.used = 1; entry.windowEndMs = windowEndMs; }
    else this.#quotas.set(key, { used: 1, windowEndMs });
    return { allowed: true, used: used + 1, remaining: limit - used - 1 };
  }

  takeBucketsAndQuota(specs: readonly BucketSpec[], quota: QuotaRequest, nowMs: number): CombinedDecision {
    const buckets = this.takeBuckets(specs, nowMs);
    return { buckets, quota: buckets.allowed ? this.consumeQuota(quota.key, quota.limit, quota.windowEndMs, nowMs) : undefined };
  }

  getQuota(key: string, nowMs: number): Promise<number> {
    const entry = this.#quotas.get(key);
    return Promise.resolve(entry !== undefined && entry.windowEndMs > nowMs ? entry.used : 0);
  }

  setQuota(key: string, used: number, windowEndMs: number, nowMs: number): Promise<void> {
    if (windowEndMs <= nowMs) this.#quotas.delete(key);
    else this.#quotas.set(key, { used: Math.max(0, Math.floor(used)), windowEndMs });
    return Promise.resolve();
  }

  health(): CounterHealth {
    return { ok: true, since: this.#since };
  }

  close(): Promise<void> {
    this.#buckets.clear();
    this.#quotas.clear();
    return Promise.resolve();
  }

  /** Entries held, for tests and metrics. */
  get size(): { buckets: number; quotas: number } {
    return { buckets: this.#buckets.size, quotas: this.#quotas.size };
  }

  /** Drops buckets that are full again (a missing bucket is a full one) and quota windows that ended. */
  #sweep(nowMs: number): void {
    this.#nextSweepMs = nowMs + this.#sweepIntervalMs;
    for (const [key, b] of this.#buckets) {
      if (b.rateLimit <= 0) continue; // never refills: forgetting it would mint a full burst
      const t = b.tokens + (nowMs > b.updatedMs ? ((nowMs - b.updatedMs) * b.rateLimit) / 1000 : 0);
      if (t + TOKEN_EPSILON >= b.burstLimit) this.#buckets.delete(key);
    }
    for (const [key, q] of this.#quotas) if (q.windowEndMs <= nowMs) this.#quotas.delete(key);
  }
}

export function createMemoryCounters(options?: MemoryCountersOptions): MemoryCounters {
  return new MemoryCounters(options);
}
