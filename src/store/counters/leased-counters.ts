// Approximate counters for the highest request rates (docs/api-keys.md, "Approximate mode"): each node leases
// whole tokens and quota counts from the shared Redis buckets in batches, spends them locally and synchronously
// (no round trip, no promise), and gives back what it did not spend at a fixed interval.
//
// The error is one-sided. Every request a node admits spent a token (and a quota count) that the shared
// bucket in Redis gave it first, so across all nodes a bucket never admits more than burst + rate x t and a
// quota never more than its limit: the limits hold exactly as in the exact mode. What a node holds unspent is
// missing from the shared bucket meanwhile, so another node may refuse a request the exact mode would admit:
// per bucket (and quota) each node holds at most lease - 1 unspent tokens, given back within one reconcile
// interval. With N nodes, refusals happen only while the shared bucket is empty and the other nodes together
// hold at most (N - 1) x (lease - 1) of its tokens. test/counters/leased.test.ts shows both bounds.
import { systemClock, type Clock } from '../../core/clock.ts';
import type {
  BucketDecision, BucketSpec, CombinedDecision, CounterHealth, CounterStore, QuotaDecision, QuotaRequest, UsageLedger,
} from './ports.ts';
import type { LeaseReply, RedisCounters } from './redis-counters.ts';

export const DEFAULT_MAX_LEASE = 100;
export const DEFAULT_RECONCILE_MS = 1_000;

export interface LeasedCountersOptions {
  /** Most tokens (or quota counts) one lease takes (default 100). */
  readonly maxLease?: number;
  /** A lease is this share of the bucket's burst (or the quota's limit), at least 1, at most maxLease (default 0.1). */
  readonly leaseFraction?: number;
  /** How often unspent leases are given back (default 1,000 ms); 0: only when reconcile() is called (tests). */
  readonly reconcileIntervalMs?: number;
  /** For the reconcile timer's nowMs (decisions use the nowMs they are given). */
  readonly clock?: Clock;
}

/** Mutable on purpose: one per bucket a node uses, updated in place. */
interface BucketLease {
  spec: BucketSpec;
  /** Whole tokens leased and not spent yet. */
  tokens: number;
  /** Extra tokens asked for by lease calls in flight (the bound on what a node holds counts them). */
  extra: number;
  /** Whole tokens the shared bucket kept at the last lease (for `remaining`). */
  left: number;
  /** The lease call in flight that asked for extra tokens, if any: requests short of this bucket wait for it. */
  pending: Promise<WaitOutcome> | undefined;
}

interface QuotaLease {
  /** Counts leased in the window ending at windowEndMs and not spent yet. */
  count: number;
  extra: number;
  windowEndMs: number;
  /** The shared count right after the last lease (this node's unspent counts included). */
  used: number;
  pending: Promise<WaitOutcome> | undefined;
}

export interface LeaseStats {
  /** Decisions answered from local leases, without Redis. */
  readonly localDecisions: number;
  /** Lease script calls (each one round trip). */
  readonly leaseCalls: number;
  /** Tokens and counts given back by reconcile. */
  readonly returned: number;
  /** Unspent tokens and counts a failed give-back lost (fewer admissions, never more). */
  readonly lost: number;
}

type Maybe<T> = T | Promise<T>;

/** What a lease call found, for the requests that waited for it. */
interface WaitOutcome {
  /** The shared bucket that refused the call, and its refusal. */
  readonly deniedKey?: string;
  readonly denied?: BucketDecision;
  /** The quota that refused the call, and its shared count then. */
  readonly quotaKey?: string;
  readonly quotaUsed?: number;
}
const NOTHING_FOUND: WaitOutcome = Object.freeze({});
const then = <T, R>(v: Maybe<T>, f: (x: T) => R): Maybe<R> => (v instanceof Promise ? v.then(f) : f(v));

/** Lease size for a capacity (burst or quota limit): capacity x fraction, at least 1, at most max. */
export function leaseSize(capacity: number, fraction: number, max: number): number {
  const n = Math.floor(capacity * fraction);
  return n < 1 ? 1 : n > max ? max : n;
}

export class LeasedCounters implements CounterStore {
  readonly kind = 'redis' as const;
  readonly mode = 'approximate' as const;
  /** Decisions are local: the caller counts usage and adds it to the shared ledger (at most a second later). */
  readonly countsUsage = false;
  readonly #redis: RedisCounters;
  readonly #maxLease: number;
  readonly #fraction: number;
  readonly #clock: Clock;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #buckets = new Map<string, BucketLease>();
  readonly #quotas = new Map<string, QuotaLease>();
  #localDecisions = 0;
  #leaseCalls = 0;
  #returned = 0;
  #lost = 0;
  #reconciling: Promise<void> | undefined;

  constructor(redis: RedisCounters, { maxLease = DEFAULT_MAX_LEASE, leaseFraction = 0.1, reconcileIntervalMs = DEFAULT_RECONCILE_MS, clock = systemClock }: LeasedCountersOptions = {}) {
    if (!(Number.isInteger(maxLease) && maxLease >= 1)) throw new Error(`counters: maxLease must be a whole number >= 1, got ${maxLease}`);
    if (!(leaseFraction > 0 && leaseFraction <= 1)) throw new Error(`counters: leaseFraction must be in (0, 1], got ${leaseFraction}`);
    this.#redis = redis;
    this.#maxLease = maxLease;
    this.#fraction = leaseFraction;
    this.#clock = clock;
    if (reconcileIntervalMs > 0) {
      this.#timer = setInterval(() => void this.reconcile(this.#clock.now()), reconcileIntervalMs);
      this.#timer.unref();
    }
  }

  get location(): string {
    return this.#redis.location;
  }

  get usage(): UsageLedger {
    return this.#redis.usage;
  }

  takeBuckets(specs: readonly BucketSpec[], nowMs: number): Maybe<BucketDecision> {
    return then(this.#decide(specs, undefined, nowMs), (d) => d.buckets);
  }

  consumeQuota(key: string, limit: number, windowEndMs: number, nowMs: number): Maybe<QuotaDecision> {
    return then(this.#decide(NO_SPECS, { key, limit, windowEndMs }, nowMs), (d) => d.quota as QuotaDecision);
  }

  takeBucketsAndQuota(specs: readonly BucketSpec[], quota: QuotaRequest, nowMs: number): Maybe<CombinedDecision> {
    return this.#decide(specs, quota, nowMs);
  }

  /** The shared count less this node's unspent counts (other nodes' unspent counts are not known here). */
  async getQuota(key: string, nowMs: number): Promise<number> {
    const shared = await this.#redis.getQuota(key, nowMs);
    const q = this.#quotas.get(key);
    const unspent = q !== undefined && q.windowEndMs > nowMs ? q.count : 0;
    return Math.max(0, shared - unspent);
  }

  /** Sets the shared count; this node's unspent counts are dropped, not given back (they were counted before). */
  async setQuota(key: string, used: number, windowEndMs: number, nowMs: number): Promise<void> {
    const q = this.#quotas.get(key);
    if (q !== undefined) q.count = 0;
    await this.#redis.setQuota(key, used, windowEndMs, nowMs);
  }

  health(): CounterHealth {
    return this.#redis.health();
  }

  stats(): LeaseStats {
    return { localDecisions: this.#localDecisions, leaseCalls: this.#leaseCalls, returned: this.#returned, lost: this.#lost };
  }

  /**
   * Gives every unspent lease back to Redis (the timer calls this each interval) and forgets leases that were
   * empty. A failed give-back loses those tokens: fewer admissions until the buckets refill, never more.
   */
  reconcile(nowMs: number): Promise<void> {
    // One give-back at a time: a slow Redis must not stack them up.
    this.#reconciling ??= this.#giveBack(nowMs).finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#reconciling;
    await this.#giveBack(this.#clock.now());
    await this.#redis.close();
  }

  async #giveBack(nowMs: number): Promise<void> {
    const buckets: Array<{ spec: BucketSpec; tokens: number }> = [];
    const quotas: Array<{ key: string; count: number; windowEndMs: number }> = [];
    let total = 0;
    for (const [key, b] of this.#buckets) {
      if (b.tokens > 0) {
        buckets.push({ spec: b.spec, tokens: b.tokens });
        total += b.tokens;
        b.tokens = 0;
      } else if (b.extra === 0) {
        this.#buckets.delete(key);
      }
    }
    for (const [key, q] of this.#quotas) {
      if (q.count > 0 && q.windowEndMs > nowMs) {
        quotas.push({ key, count: q.count, windowEndMs: q.windowEndMs });
        total += q.count;
        q.count = 0;
      } else if (q.extra === 0) {
        this.#quotas.delete(key);
      }
    }
    if (total === 0) return;
    try {
      await this.#redis.returnLeases({ buckets, quotas }, nowMs);
      this.#returned += total;
    } catch {
      // Reported through health(); the tokens are lost.
      this.#lost += total;
    }
  }

  #bucketLease(spec: BucketSpec): BucketLease {
    let b = this.#buckets.get(spec.key);
    if (b === undefined) {
      b = { spec, tokens: 0, extra: 0, left: spec.burstLimit, pending: undefined };
      this.#buckets.set(spec.key, b);
    } else if (b.spec !== spec) {
      if (b.spec.burstLimit !== spec.burstLimit || b.spec.rateLimit !== spec.rateLimit) {
        // New limits (a deploy): unspent tokens leased under the old ones are dropped, not spent (the shared
        // bucket is clamped to the new burst; spending them could admit more than it allows).
        this.#lost += b.tokens;
        b.tokens = 0;
      }
      b.spec = spec;
    }
    return b;
  }

  #decide(specs: readonly BucketSpec[], quota: QuotaRequest | undefined, nowMs: number): Maybe<CombinedDecision> {
    const n = specs.length;
    const leases = new Array<BucketLease>(n);
    let need = 0;
    for (let i = 0; i < n; i++) {
      const b = this.#bucketLease(specs[i]);
      leases[i] = b;
      if (b.tokens < 1) need++;
    }
    let q: QuotaLease | undefined;
    let quotaLocal = false;
    if (quota !== undefined) {
      q = this.#quotas.get(quota.key);
      if (q === undefined) {
        q = { count: 0, extra: 0, windowEndMs: quota.windowEndMs, used: 0, pending: undefined };
        this.#quotas.set(quota.key, q);
      } else if (q.windowEndMs < quota.windowEndMs) {
        // The window this lease was for has ended: its unspent counts are worth nothing now.
        q.count = 0;
        q.windowEndMs = quota.windowEndMs;
      }
      quotaLocal = q.count >= 1;
    }

    if (need === 0 && (quota === undefined || quotaLocal)) {
      // Everything from local leases: synchronous, no round trip.
      this.#localDecisions++;
      let remaining = Number.POSITIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const b = leases[i];
        b.tokens--;
        const r = b.tokens + b.left;
        if (r < remaining) remaining = r;
      }
      const buckets: BucketDecision = { allowed: true, remaining, retryAfterMs: 0, deniedBy: -1 };
      if (quota === undefined || q === undefined) return { buckets, quota: undefined };
      q.count--;
      return { buckets, quota: this.#spentLocally(q, quota.limit) };
    }
    // A lease call of this node is already bringing what is short: wait for it rather than ask Redis again
    // (under load, every request of the event-loop turn that emptied a lease would otherwise ask).
    let wait: Promise<WaitOutcome> | undefined;
    for (let i = 0; i < n && wait === undefined; i++) if (leases[i].tokens < 1) wait = leases[i].pending;
    if (wait === undefined && q !== undefined && !quotaLocal) wait = q.pending;
    if (wait !== undefined) return wait.then((found) => this.#afterWait(found, specs, quota, nowMs));
    return this.#leaseAndDecide(specs, leases, need, quota, q, quotaLocal, nowMs);
  }

  /**
   * A request that waited for a lease call: still short of a bucket that refused the call, it is refused too
   * (the exact mode would have refused it a round trip earlier); still short of a quota that refused, the
   * quota refuses. Otherwise it decides again (from the filled leases, or with a lease call of its own). This
   * keeps a throttled burst from asking Redis one waiter after another.
   */
  #afterWait(found: WaitOutcome, specs: readonly BucketSpec[], quota: QuotaRequest | undefined, nowMs: number): Maybe<CombinedDecision> {
    if (found.denied !== undefined) {
      for (let i = 0; i < specs.length; i++) {
        if (specs[i].key !== found.deniedKey) continue;
        const b = this.#buckets.get(specs[i].key);
        if (b === undefined || b.tokens < 1) return { buckets: { ...found.denied, deniedBy: i }, quota: undefined };
      }
    }
    if (found.quotaUsed !== undefined && quota !== undefined && found.quotaKey === quota.key) {
      const q = this.#quotas.get(quota.key);
      let bucketsLocal = true;
      for (let i = 0; i < specs.length && bucketsLocal; i++) bucketsLocal = (this.#buckets.get(specs[i].key)?.tokens ?? 0) >= 1;
      if (bucketsLocal && (q === undefined || q.count < 1)) {
        let remaining = Number.POSITIVE_INFINITY;
        for (const spec of specs) {
          const b = this.#buckets.get(spec.key) as BucketLease;
          b.tokens--; // the tokens stay taken when the quota refuses, as in the exact mode
          if (b.tokens + b.left < remaining) remaining = b.tokens + b.left;
        }
        const used = found.quotaUsed;
        return {
          buckets: { allowed: true, remaining, retryAfterMs: 0, deniedBy: -1 },
          quota: { allowed: false, used, remaining: Math.max(0, quota.limit - used) },
        };
      }
    }
    return this.#decide(specs, quota, nowMs);
  }

  #spentLocally(q: QuotaLease, limit: number): QuotaDecision {
    const used = Math.min(limit, q.used - q.count);
    return { allowed: true, used, remaining: Math.max(0, limit - used) };
  }

  /** Reserves what local leases hold, leases the rest in one script call, and decides on its reply. */
  #leaseAndDecide(
    specs: readonly BucketSpec[], leases: BucketLease[], need: number,
    quota: QuotaRequest | undefined, q: QuotaLease | undefined, quotaLocal: boolean, nowMs: number,
  ): Promise<CombinedDecision> {
    const n = specs.length;
    const needIdx = new Array<number>(need);
    const needSpecs = new Array<BucketSpec>(need);
    const wants = new Array<number>(need);
    const extras = new Array<number>(need);
    for (let i = 0, j = 0; i < n; i++) {
      const b = leases[i];
      if (b.tokens >= 1) {
        b.tokens--; // reserved; given back if the decision refuses
        continue;
      }
      const size = leaseSize(b.spec.burstLimit, this.#fraction, this.#maxLease);
      // What this node holds (unspent + asked for in flight) stays below one lease.
      const extra = Math.max(0, size - 1 - b.extra);
      b.extra += extra;
      needIdx[j] = i;
      needSpecs[j] = specs[i];
      wants[j] = 1 + extra;
      extras[j] = extra;
      j++;
    }
    let quotaExtra = 0;
    let quotaLease: { key: string; limit: number; windowEndMs: number; want: number } | undefined;
    if (quota !== undefined && q !== undefined) {
      if (quotaLocal) {
        q.count--; // reserved
      } else {
        quotaExtra = Math.max(0, leaseSize(quota.limit, this.#fraction, this.#maxLease) - 1 - q.extra);
        q.extra += quotaExtra;
        quotaLease = { key: quota.key, limit: quota.limit, windowEndMs: quota.windowEndMs, want: 1 + quotaExtra };
      }
    }
    this.#leaseCalls++;
    let found = NOTHING_FOUND;
    const decided = Promise.resolve(this.#redis.lease(needSpecs, wants, quotaLease, nowMs)).then((reply: LeaseReply) => {
      for (let j = 0; j < need; j++) leases[needIdx[j]].extra -= extras[j];
      if (q !== undefined) q.extra -= quotaExtra;

      let bucketsOk = reply.buckets.allowed;
      let fromLeases = false;
      if (!bucketsOk && !reply.failed) {
        // Refused by the shared buckets, but a concurrent lease call of this node may have filled the leases
        // meanwhile: a node never refuses while it holds what the request needs.
        fromLeases = true;
        for (let j = 0; j < need; j++) if (leases[needIdx[j]].tokens < 1) fromLeases = false;
        if (fromLeases) {
          for (let j = 0; j < need; j++) leases[needIdx[j]].tokens--;
          bucketsOk = true;
        }
      }
      if (!bucketsOk) {
        // Nothing spent: the reserved local tokens (and quota count) go back to the leases.
        for (let i = 0; i < n; i++) if (!needIdx.includes(i)) leases[i].tokens++;
        if (quotaLocal && q !== undefined) q.count++;
        if (!reply.failed && reply.buckets.deniedBy >= 0) found = { deniedKey: needSpecs[reply.buckets.deniedBy].key, denied: reply.buckets };
        const buckets: BucketDecision = reply.failed
          ? reply.failed.buckets
          : { ...reply.buckets, deniedBy: reply.buckets.deniedBy >= 0 ? needIdx[reply.buckets.deniedBy] : -1 };
        return { buckets, quota: undefined };
      }

      let buckets: BucketDecision;
      if (reply.failed) {
        buckets = reply.failed.buckets; // failing open: allowed without a lease
      } else {
        if (!fromLeases) {
          for (let j = 0; j < need; j++) {
            const b = leases[needIdx[j]];
            b.tokens += reply.granted[j] - 1;
            b.left = reply.left[j];
          }
        }
        let remaining = Number.POSITIVE_INFINITY;
        for (let i = 0; i < n; i++) {
          const r = leases[i].tokens + leases[i].left;
          if (r < remaining) remaining = r;
        }
        buckets = { allowed: true, remaining, retryAfterMs: 0, deniedBy: -1 };
      }

      if (quota === undefined || q === undefined) return { buckets, quota: undefined };
      if (quotaLocal) return { buckets, quota: this.#spentLocally(q, quota.limit) };
      if (fromLeases && q.count < 1) {
        // The shared buckets refused, so the quota was not asked: ask it now, on its own.
        return then(this.#decide(NO_SPECS, quota, nowMs), (d): CombinedDecision => ({ buckets, quota: d.quota }));
      }
      if (reply.failed) return { buckets, quota: reply.failed.quota };
      const got = reply.quota;
      if (q.count >= 1 && q.windowEndMs >= quota.windowEndMs && (got === undefined || got.granted < 1)) {
        // Refused by the shared count (or not asked: the buckets came from leases), but a concurrent call of
        // this node leased counts meanwhile.
        q.count--;
        return { buckets, quota: this.#spentLocally(q, quota.limit) };
      }
      if (got === undefined || got.granted < 1) {
        if (got !== undefined) found = { quotaKey: quota.key, quotaUsed: got.used };
        const used = got?.used ?? quota.limit;
        return { buckets, quota: { allowed: false, used, remaining: Math.max(0, quota.limit - used) } };
      }
      if (got.windowEndMs > q.windowEndMs) {
        // A peer (or this node) rolled over into a newer window: leases of the older one are void.
        q.count = 0;
        q.windowEndMs = got.windowEndMs;
      }
      if (got.windowEndMs === q.windowEndMs) {
        q.count += got.granted - 1;
        q.used = got.used;
      }
      const used = Math.min(quota.limit, got.used - q.count);
      return { buckets, quota: { allowed: true, used, remaining: Math.max(0, quota.limit - used) } };
    });
    // Settles once the reply is applied to the leases: requests waiting for it then find them filled.
    const settled = decided.then(() => found, () => NOTHING_FOUND);
    for (let j = 0; j < need; j++) if (extras[j] > 0) leases[needIdx[j]].pending = settled;
    if (quotaExtra > 0 && q !== undefined) q.pending = settled;
    void settled.then(() => {
      for (let j = 0; j < need; j++) if (leases[needIdx[j]].pending === settled) leases[needIdx[j]].pending = undefined;
      if (q !== undefined && q.pending === settled) q.pending = undefined;
    });
    return decided;
  }
}

const NO_SPECS: readonly BucketSpec[] = Object.freeze([]);
