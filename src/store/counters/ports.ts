// The counters port (ARCHITECTURE.md section 4): token buckets and quota counters, exact across nodes.
// Adapters: in-process (memory-counters.ts) and Redis (redis-counters.ts); one contract suite checks both.
import type { UsageCount, UsageDelta } from '../api-keys-port.ts';

export interface BucketSpec {
  /** Stable key, built once per route when the configuration is compiled (for example "s:{apiId}:{stage}"). */
  readonly key: string;
  /** Tokens per second, may be fractional; 0 = never refills. */
  readonly rateLimit: number;
  /** Capacity; the bucket starts full; 0 refuses everything. */
  readonly burstLimit: number;
}

export interface BucketDecision {
  readonly allowed: boolean;
  /** Whole tokens left: the least over all buckets when allowed, the refusing bucket's when refused. */
  readonly remaining: number;
  /** 0 when allowed; else ms until the refusing bucket(s) could pass; Infinity when they never will. */
  readonly retryAfterMs: number;
  /** Index in specs of the bucket that refused (the one with the longest wait); -1 when allowed. */
  readonly deniedBy: number;
  /** Set when the store could not be asked and the decision comes from the fail mode. */
  readonly degraded?: true;
}

export interface QuotaDecision {
  readonly allowed: boolean;
  /** Requests counted in the current window, this one included when allowed. */
  readonly used: number;
  readonly remaining: number;
  /** Set when the store could not be asked and the decision comes from the fail mode. */
  readonly degraded?: true;
}

export interface QuotaRequest {
  readonly key: string;
  readonly limit: number;
  readonly windowEndMs: number;
}

export interface CombinedDecision {
  readonly buckets: BucketDecision;
  /** Undefined when the buckets refused (the quota was not asked). */
  readonly quota: QuotaDecision | undefined;
}

export interface CounterHealth {
  readonly ok: boolean;
  /** Clock time (ms) of the last change of `ok`. */
  readonly since: number;
  /** Message of the error that made the store unhealthy; absent while healthy. */
  readonly lastError?: string;
  /** Decisions answered by the fail mode since the store was opened (a metric; absent: never degrades). */
  readonly degradedDecisions?: number;
}

/**
 * The name of one key's daily usage record under one plan, "plan\nkeyId" (plan names and key ids never hold a
 * newline). Given to a decision of a counter store that keeps usage itself (Redis), the record is counted with the
 * decision that accepts the request, atomically, so a node that dies right after loses none. Built once per key and plan.
 */
export function usageRecordId(plan: string, keyId: string): string {
  return `${plan}\n${keyId}`;
}

/**
 * Daily usage kept by the counter store (Redis): decisions given a usage record count into it, add() takes the counts
 * a node made without the store (fail-open decisions, report-only refusals, approximate mode), and a syncer copies
 * what changed to the Store (usage-sync.ts). A gateway node that dies loses nothing that reached it.
 */
export interface UsageLedger {
  /** Adds counts (one round trip). Rejects when the store cannot be asked. */
  add(deltas: readonly UsageDelta[]): Promise<void>;
  /**
   * Up to `limit` records that changed since they were last confirmed, with their whole counts; undefined when
   * another node holds the copying lease (one node copies at a time; the lease passes on when it stops renewing).
   */
  changed(limit: number): Promise<readonly UsageCount[] | undefined>;
  /** The records were stored with these counts: they stop being "changed" unless they were counted since. */
  confirm(counts: readonly UsageCount[]): Promise<void>;
}

/** What to answer when the store cannot be asked: AWS lets requests through when it cannot check usage. */
export type FailMode = 'open' | 'closed';

export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  /**
   * True when a decision given a usage record counts it whenever the decision allows (a quota decision: when the
   * quota allows) and is not degraded; the caller counts every other accepted request itself.
   */
  readonly countsUsage: boolean;
  /** Present when usage records live in the counter store first (Redis); absent: the caller writes them to the Store. */
  readonly usage?: UsageLedger;

  /**
   * Atomically checks every bucket and consumes one token from EACH only if ALL allow: a request that
   * passes the key bucket but fails the stage bucket leaves the key's token in place. Never throws for a
   * broken store (the adapter answers with its fail mode, marked `degraded`). The memory adapter answers
   * synchronously; callers must not await when no promise is returned. Keys in one call must be distinct.
   */
  takeBuckets(specs: readonly BucketSpec[], nowMs: number, usage?: string): BucketDecision | Promise<BucketDecision>;

  /**
   * Quota: counts one request against `key` in the window ending at `windowEndMs`, only if the count stays
   * <= limit. A stored window that ended before `windowEndMs` starts over at 0; a stored window ending
   * later (another node already rolled over) is counted into. `nowMs` only bounds how long the counter is
   * kept. Never throws for a broken store (fail mode, `degraded`).
   */
  consumeQuota(key: string, limit: number, windowEndMs: number, nowMs: number, usage?: string): QuotaDecision | Promise<QuotaDecision>;

  /**
   * takeBuckets, then (only when every bucket allowed) consumeQuota, as ONE decision: one Redis script call,
   * one round trip, for a request of a key in a plan with a throttle and a quota. The tokens stay taken when
   * the quota refuses (as with the two calls in a row). `quota` is undefined when the buckets refused.
   */
  takeBucketsAndQuota(specs: readonly BucketSpec[], quota: QuotaRequest, nowMs: number, usage?: string): CombinedDecision | Promise<CombinedDecision>;

  /** Requests counted for `key` in the window live at `nowMs` (0 when none). Control plane: may reject. */
  getQuota(key: string, nowMs: number): Promise<number>;

  /**
   * Sets the count for `key` in the window ending at `windowEndMs` (AWS "replace /remaining": used = limit -
   * remaining; 0 resets). Control plane: may reject.
   */
  setQuota(key: string, used: number, windowEndMs: number, nowMs: number): Promise<void>;

  health(): CounterHealth;
  close(): Promise<void>;
}

/** The decision a broken store answers with, per fail mode. */
export function failBucketDecision(mode: FailMode): BucketDecision {
  return mode === 'open' ? FAIL_OPEN_BUCKETS : FAIL_CLOSED_BUCKETS;
}

export function failQuotaDecision(mode: FailMode, limit: number): QuotaDecision {
  return mode === 'open'
    ? { allowed: true, used: 0, remaining: limit, degraded: true }
    : { allowed: false, used: 0, remaining: 0, degraded: true };
}

const FAIL_OPEN_BUCKETS: BucketDecision = Object.freeze({
  allowed: true, remaining: 0, retryAfterMs: 0, deniedBy: -1, degraded: true,
});
// When closed, refuse with a short retry: the store may be back in a second.
const FAIL_CLOSED_BUCKETS: BucketDecision = Object.freeze({
  allowed: false, remaining: 0, retryAfterMs: 1000, deniedBy: -1, degraded: true,
});
