// Redis counters for a cluster of gateway nodes: every decision is decided atomically by a Lua script (the
// decisions of one event-loop turn share one script call, one round trip), so token buckets and quotas are
// exact across nodes; a broken Redis never throws into the request path.
import { Redis, type RedisOptions } from 'ioredis';
import { systemClock, type Clock } from '../../core/clock.ts';
import {
  failBucketDecision, failQuotaDecision,
  type BucketDecision, type BucketSpec, type CombinedDecision, type CounterHealth, type CounterStore, type FailMode, type QuotaDecision,
  type QuotaRequest,
} from './ports.ts';

/*
 * Time. Scripts decide with the gateway's nowMs, passed as an argument, not with Redis TIME:
 * - the Clock stays injectable, so the contract suite runs the same fake-time tests against Redis and
 *   memory (Redis TIME cannot be moved);
 * - a Redis failover to a replica whose clock differs would otherwise jump every bucket at once.
 * Cost, clock skew between gateway nodes: a node running d ms ahead refills a bucket d ms early, once; the
 * bucket then keeps the later time (updatedMs never goes back), so nodes that are behind credit nothing until
 * they catch up. Over any interval at most rateLimit * d extra tokens are handed out, on top of
 * burst + rate * elapsed (with NTP, d is a few ms: well below one token for any rate under 1000/s). Quota
 * windows are decided by the window end the caller computed (a node still in the previous window counts into
 * the newer one once a peer rolled over), so skew only moves the rollover instant by d.
 * Expiry uses relative PEXPIRE (window end - nowMs, bucket refill time) rather than PEXPIREAT: the result
 * is the same when the clocks agree and stays right when Redis's wall clock does not agree with the gateway's
 * (or with a test's fake clock). Expiry is garbage collection only; correctness lives in the stored values.
 *
 * Redis Cluster: all buckets of one decision must live in one slot; wrap keys in a {hash tag} if this adapter
 * is ever pointed at a cluster (the account bucket is shared by every request anyway).
 */

/*
 * The decisions, as Lua functions of a key table K and an argument table A (strings, as ARGV):
 *
 * take(K, A, withQuota): K[1..n] are buckets (and K[n+1] the quota hash when withQuota); A[1] nowMs, A[2i] and
 *   A[2i+1] rateLimit and burstLimit of bucket i, then (withQuota) limit, windowEndMs, graceMs. A bucket is a hash
 *   {t: tokens, u: updatedMs}; a missing one is full; same arithmetic as token-bucket.ts. Takes a token from every
 *   bucket only if all allow; then counts the quota. Returns {allowed 0|1, remaining (-1: no bucket),
 *   retryAfterMs (-1 = never), deniedBy (0-based, -1), quotaAsked 0|1, quotaAllowed 0|1, used}.
 * quota(K, A): K[1] the quota hash {n: used, e: windowEndMs}; A: limit, windowEndMs, nowMs, graceMs. A stored
 *   window ending before windowEndMs is over (start at 0); one ending later is the current one. Returns
 *   {allowed 0|1, used}.
 */
const DECISIONS_LUA = `
local EPS = 1e-9

-- Tokens in a bucket at now (refilled, capped at the burst) and the time they account for; a missing bucket is full.
local function refilled(key, rate, cap, now)
  local v = redis.call('HMGET', key, 't', 'u')
  if not v[1] then return cap, now end
  local t = tonumber(v[1])
  local u = tonumber(v[2])
  if t > cap then t = cap end
  if now > u then
    t = t + (now - u) * rate / 1000
    if t > cap then t = cap end
    u = now
  end
  return t, u
end

-- ms until a bucket holding t tokens has a whole one; math.huge when it never will.
local function wait_ms(t, rate, cap)
  if rate > 0 and cap + EPS >= 1 then return math.max(1, math.ceil((1 - t - EPS) * 1000 / rate)) end
  return math.huge
end

-- Stores a bucket; it expires once it would be full again (a missing bucket is a full one), plus a second for
-- clock skew. A bucket that never refills never expires: forgetting it would mint a full burst.
local function store(key, t, u, rate, cap)
  redis.call('HSET', key, 't', string.format('%.17g', t), 'u', string.format('%.17g', u))
  if rate > 0 then
    local ttl = math.ceil((cap - t) * 1000 / rate) + 1000
    if ttl > 1e15 then ttl = 1e15 end
    redis.call('PEXPIRE', key, string.format('%d', ttl))
  else
    redis.call('PERSIST', key)
  end
end

-- The count of a quota window and its end: a stored window ending before wend is over (0, wend); one ending
-- later (a peer rolled over first) is the current one.
local function window(qkey, wend)
  local qv = redis.call('HMGET', qkey, 'n', 'e')
  if qv[1] and tonumber(qv[2]) >= wend then return tonumber(qv[1]), tonumber(qv[2]) end
  return 0, wend
end

local function count(qkey, limit, wend, now, grace)
  local used
  used, wend = window(qkey, wend)
  if used + 1 > limit then return 0, used end
  if used > 0 then
    -- The window's expiry (its end plus the grace) was set when it started; HINCRBY keeps it.
    used = redis.call('HINCRBY', qkey, 'n', 1)
  else
    used = 1
    redis.call('HSET', qkey, 'n', 1, 'e', string.format('%.17g', wend))
    redis.call('PEXPIRE', qkey, string.format('%d', math.ceil(math.max(1, wend - now) + grace)))
  end
  return 1, used
end

-- Refills buckets K[1..n] (rateLimit and burstLimit of bucket i at A[stride * i] and A[stride * i + 1]) and
-- finds the one that refuses with the longest wait. Returns the tokens and times, deniedBy (0-based, -1), its
-- wait (-1: never) and remaining: whole tokens of the refusing bucket, else the fewest left after one each.
local function check(K, A, n, stride, now)
  local tok, upd = {}, {}
  local deniedBy, worst, remaining = -1, -1, nil
  for i = 1, n do
    local rate = tonumber(A[stride * i])
    local cap = tonumber(A[stride * i + 1])
    local t, u = refilled(K[i], rate, cap, now)
    tok[i] = t
    upd[i] = u
    if t + EPS < 1 then
      local wait = wait_ms(t, rate, cap)
      if wait > worst then
        worst = wait
        deniedBy = i - 1
        remaining = math.floor(t + EPS)
      end
    elseif deniedBy < 0 then
      local left = math.floor(t - 1 + EPS)
      if remaining == nil or left < remaining then remaining = left end
    end
  end
  if worst == math.huge then worst = -1 end
  return tok, upd, deniedBy, worst, remaining
end

local function take(K, A, withQuota)
  local now = tonumber(A[1])
  local n = #K
  if withQuota then n = n - 1 end
  local tok, upd, deniedBy, worst, remaining = check(K, A, n, 2, now)
  if deniedBy >= 0 then return {0, remaining, worst, deniedBy, 0, 0, 0} end
  for i = 1, n do
    local t = tok[i] - 1
    if t < 0 then t = 0 end
    store(K[i], t, upd[i], tonumber(A[2 * i]), tonumber(A[2 * i + 1]))
  end
  if remaining == nil then remaining = -1 end
  if not withQuota then return {1, remaining, 0, -1, 0, 0, 0} end
  local ok, used = count(K[n + 1], tonumber(A[2 * n + 2]), tonumber(A[2 * n + 3]), now, tonumber(A[2 * n + 4]))
  return {1, remaining, 0, -1, 1, ok, used}
end

local function quota(K, A)
  local ok, used = count(K[1], tonumber(A[1]), tonumber(A[2]), tonumber(A[3]), tonumber(A[4]))
  return {ok, used}
end
`;

/**
 * Many decisions in one script call (exact: Redis runs them one after the other, atomically, in the order they
 * were asked). ARGV[1]: how many; then per decision: kind (1 take, 2 take with quota, 3 quota), its key count,
 * its argument count, its arguments; KEYS: every decision's keys in order. Returns one reply per decision.
 */
const BATCH_LUA = DECISIONS_LUA + `
local out = {}
local ki, ai = 1, 2
for d = 1, tonumber(ARGV[1]) do
  local kind = tonumber(ARGV[ai])
  local nk = tonumber(ARGV[ai + 1])
  local na = tonumber(ARGV[ai + 2])
  ai = ai + 3
  local K, A = {}, {}
  for i = 1, nk do K[i] = KEYS[ki + i - 1] end
  for i = 1, na do A[i] = ARGV[ai + i - 1] end
  ki = ki + nk
  ai = ai + na
  if kind == 3 then out[d] = quota(K, A) else out[d] = take(K, A, kind == 2) end
end
return out
`;

/** Decisions sent in one script call at most (Redis runs nothing else while a script runs). */
const MAX_BATCH = 128;
const TAKE = 1;
const TAKE_AND_COUNT = 2;
const QUOTA = 3;

interface PendingDecision {
  readonly kind: number;
  readonly keys: readonly string[];
  readonly args: ReadonlyArray<string | number>;
  readonly resolve: (reply: number[]) => void;
  readonly reject: (err: Error) => void;
}

/** KEYS[1]: quota hash. ARGV: used, windowEndMs, nowMs, graceMs. */
const SET_QUOTA_LUA = `
local wend = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if wend <= now then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('HSET', KEYS[1], 'n', ARGV[1], 'e', string.format('%.17g', wend))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil(wend - now + tonumber(ARGV[4]))))
return 1
`;

/**
 * Leases for the approximate mode (leased-counters.ts): takes up to `want` whole tokens from each bucket, and
 * up to `want` counts of a quota, for a node to spend locally. KEYS[1..nb]: buckets, KEYS[nb+1] (optional):
 * the quota hash. ARGV: nowMs, nb, then rateLimit, burstLimit, want per bucket, then (with a quota) limit,
 * windowEndMs, want, graceMs. Every bucket must hold a whole token or nothing is taken (as take() in DECISIONS_LUA);
 * each then gives min(want, whole tokens). The quota is asked only when the buckets allowed; it gives
 * min(want, limit - used), nothing when that is below 1.
 * Returns {allowed, remaining, retryAfterMs (-1 = never), deniedBy, then per bucket: granted, whole tokens left,
 * then with a quota: granted, used, windowEndMs}.
 */
const LEASE_LUA = DECISIONS_LUA + `
local now = tonumber(ARGV[1])
local nb = tonumber(ARGV[2])
local tok, upd, deniedBy, worst, remaining = check(KEYS, ARGV, nb, 3, now)
if deniedBy >= 0 then return {0, remaining, worst, deniedBy} end
local out = {1, 0, 0, -1}
for i = 1, nb do
  local rate = tonumber(ARGV[3 * i])
  local cap = tonumber(ARGV[3 * i + 1])
  local want = tonumber(ARGV[3 * i + 2])
  local g = math.floor(tok[i] + EPS)
  if g > want then g = want end
  local t = tok[i] - g
  if t < 0 then t = 0 end
  store(KEYS[i], t, upd[i], rate, cap)
  out[#out + 1] = g
  out[#out + 1] = math.floor(t + EPS)
end
if #KEYS > nb then
  local q = 3 * nb + 3
  local qkey = KEYS[nb + 1]
  local limit = tonumber(ARGV[q])
  local wend = tonumber(ARGV[q + 1])
  local want = tonumber(ARGV[q + 2])
  local grace = tonumber(ARGV[q + 3])
  local used
  used, wend = window(qkey, wend)
  local g = limit - used
  if g > want then g = want end
  if g < 1 then
    g = 0
  else
    used = used + g
    redis.call('HSET', qkey, 'n', string.format('%d', used), 'e', string.format('%d', wend))
    redis.call('PEXPIRE', qkey, string.format('%d', math.ceil(math.max(1, wend - now) + grace)))
  end
  out[#out + 1] = g
  out[#out + 1] = used
  out[#out + 1] = wend
end
return out
`;

/**
 * Gives unspent leases back. KEYS[1..nb]: buckets, then quota hashes. ARGV: nowMs, nb, then rateLimit,
 * burstLimit, tokens per bucket, then count, windowEndMs per quota. A bucket takes its tokens back up to its
 * burst (a missing bucket is full: nothing to give back to); a quota gives its counts back only while its window
 * is the one they were leased in (a later window already started from 0).
 */
const RETURN_LEASES_LUA = `
local EPS = 1e-9
local now = tonumber(ARGV[1])
local nb = tonumber(ARGV[2])
for i = 1, nb do
  local rate = tonumber(ARGV[3 * i])
  local cap = tonumber(ARGV[3 * i + 1])
  local back = tonumber(ARGV[3 * i + 2])
  local v = redis.call('HMGET', KEYS[i], 't', 'u')
  if v[1] then
    local t = tonumber(v[1])
    local u = tonumber(v[2])
    if t > cap then t = cap end
    if now > u then
      t = t + (now - u) * rate / 1000
      u = now
    end
    t = t + back
    if t > cap then t = cap end
    if rate > 0 and t + EPS >= cap then
      redis.call('DEL', KEYS[i])
    else
      redis.call('HSET', KEYS[i], 't', string.format('%.17g', t), 'u', string.format('%.17g', u))
      if rate > 0 then
        redis.call('PEXPIRE', KEYS[i], string.format('%d', math.ceil((cap - t) * 1000 / rate) + 1000))
      end
    end
  end
end
local a = 3 * nb + 3
for j = nb + 1, #KEYS do
  local count = tonumber(ARGV[a])
  local wend = tonumber(ARGV[a + 1])
  a = a + 2
  local qv = redis.call('HMGET', KEYS[j], 'n', 'e')
  if qv[1] and tonumber(qv[2]) == wend then
    local n = tonumber(qv[1]) - count
    if n < 0 then n = 0 end
    redis.call('HSET', KEYS[j], 'n', string.format('%d', n))
  end
end
return 1
`;

/** A quota to lease counts from, with the lease call. */
export interface QuotaLeaseRequest extends QuotaRequest {
  readonly want: number;
}

/** What a lease call answers: the decision, and what each bucket and the quota gave. */
export interface LeaseReply {
  readonly buckets: BucketDecision;
  /** Per bucket of the call, whole tokens given (the caller spends one at once); empty when refused or degraded. */
  readonly granted: readonly number[];
  /** Per bucket, whole tokens the shared bucket kept after the lease. */
  readonly left: readonly number[];
  /** Undefined when no quota was asked, the buckets refused, or the store could not be asked (see `failed`). */
  readonly quota?: { readonly granted: number; readonly used: number; readonly windowEndMs: number };
  /** The fail-mode decision when Redis could not be asked (nothing was leased). */
  readonly failed?: CombinedDecision;
}

/** Unspent leases to give back. */
export interface LeaseReturn {
  readonly buckets: ReadonlyArray<{ readonly spec: BucketSpec; readonly tokens: number }>;
  readonly quotas: ReadonlyArray<{ readonly key: string; readonly count: number; readonly windowEndMs: number }>;
}

export interface RedisCountersOptions {
  /** Prepended to every key, so deployments and test runs sharing a Redis stay apart. */
  readonly prefix?: string;
  /** Token buckets when Redis cannot be asked: 'open' lets requests through (AWS behaviour). */
  readonly failMode?: FailMode;
  /** Quotas when Redis cannot be asked. */
  readonly quotaFailMode?: FailMode;
  /** A decision that takes longer than this is answered by the fail mode (the request path never waits longer). */
  readonly commandTimeoutMs?: number;
  /** How long opening waits for the first connection. */
  readonly connectTimeoutMs?: number;
  /** Opening fails when Redis is unreachable (default); false starts degraded and connects in the background. */
  readonly waitForConnection?: boolean;
  /** Reconnect backoff cap; the adapter reconnects forever and recovers by itself. */
  readonly reconnectMaxDelayMs?: number;
  /** Called when health changes; an outage is reported at most once per this interval. */
  readonly healthReportIntervalMs?: number;
  readonly onHealthChange?: (ok: boolean, error?: Error) => void;
  /** Clock for health timestamps and report pacing (decisions use the nowMs they are given). */
  readonly clock?: Clock;
  /** How long a quota counter outlives its window end, so lagging nodes still count into it. */
  readonly quotaGraceMs?: number;
  /** Extra ioredis options (TLS, sentinels...); the failure-handling options above win. */
  readonly redis?: RedisOptions;
}

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

export class RedisCounters implements CounterStore {
  readonly kind = 'redis' as const;
  /** host:port/db without credentials, for logs. */
  readonly location: string;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #failMode: FailMode;
  readonly #quotaFailMode: FailMode;
  readonly #quotaGraceMs: number;
  readonly #clock: Clock;
  readonly #reportIntervalMs: number;
  readonly #onHealthChange: ((ok: boolean, error?: Error) => void) | undefined;
  readonly #batch: ScriptFn;
  readonly #setQuota: ScriptFn;
  readonly #lease: ScriptFn;
  readonly #returnLeases: ScriptFn;
  #ok = false;
  #since: number;
  #lastError: string | undefined = 'not connected yet';
  /** The health last told to onHealthChange (true at start: the first outage is news). */
  #reportedOk = true;
  #lastReportMs = Number.NEGATIVE_INFINITY;
  #closing = false;
  /** Decisions answered by the fail mode (health().degradedDecisions, a metric). */
  #degraded = 0;

  constructor(url: string, options: RedisCountersOptions = {}) {
    const {
      prefix = 'portcullis:',
      failMode = 'open',
      quotaFailMode = 'open',
      commandTimeoutMs = 100,
      connectTimeoutMs = 2_000,
      reconnectMaxDelayMs = 1_000,
      healthReportIntervalMs = 10_000,
      onHealthChange,
      clock = systemClock,
      quotaGraceMs = 60_000,
      redis = {},
    } = options;
    this.#prefix = prefix;
    this.#failMode = failMode;
    this.#quotaFailMode = quotaFailMode;
    this.#quotaGraceMs = quotaGraceMs;
    this.#clock = clock;
    this.#since = clock.now();
    this.#reportIntervalMs = healthReportIntervalMs;
    this.#onHealthChange = onHealthChange;
    this.location = redactRedisUrl(url);

    this.#redis = new Redis(url, {
      ...redis,
      lazyConnect: true,
      // Fail fast instead of queueing: a request must not wait for a reconnect, and a queue built up during
      // an outage would replay stale decisions afterwards.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: commandTimeoutMs,
      connectTimeout: connectTimeoutMs,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), reconnectMaxDelayMs),
      // Decisions batch themselves into one script call (#submit); the few other commands need no pipelining.
      enableAutoPipelining: false,
    });
    this.#redis.on('ready', () => this.#markOk());
    this.#redis.on('error', (err: Error) => this.#markFailed(err));
    this.#redis.on('close', () => {
      // The first sign of an outage; while already down, keep the more telling error (ECONNREFUSED...).
      if (this.#ok) this.#markFailed(new Error('connection to Redis closed'));
    });
    // EVALSHA with an automatic EVAL fallback on NOSCRIPT (a restarted Redis has an empty script cache).
    this.#redis.defineCommand('portcullisDecide', { lua: BATCH_LUA });
    this.#redis.defineCommand('portcullisSetQuota', { lua: SET_QUOTA_LUA, numberOfKeys: 1 });
    this.#redis.defineCommand('portcullisLease', { lua: LEASE_LUA });
    this.#redis.defineCommand('portcullisReturnLeases', { lua: RETURN_LEASES_LUA });
    const commands = this.#redis as unknown as Record<string, ScriptFn>;
    this.#batch = commands.portcullisDecide.bind(this.#redis);
    this.#setQuota = commands.portcullisSetQuota.bind(this.#redis);
    this.#lease = commands.portcullisLease.bind(this.#redis);
    this.#returnLeases = commands.portcullisReturnLeases.bind(this.#redis);
  }

  /** Connects; rejects with a clear message when Redis cannot be reached. */
  async connect(): Promise<void> {
    try {
      await this.#redis.connect();
    } catch (err) {
      const cause = this.#lastError ?? (err as Error).message;
      throw new Error(`counters: cannot reach Redis at ${this.location}: ${cause}`, { cause: err });
    }
  }

  takeBuckets(specs: readonly BucketSpec[], nowMs: number): BucketDecision | Promise<BucketDecision> {
    const n = specs.length;
    if (n === 0) return { allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterMs: 0, deniedBy: -1 };
    if (this.#redis.status !== 'ready') return this.#failBuckets();
    const keys = new Array<string>(n);
    const args: Array<string | number> = new Array(1 + 2 * n);
    args[0] = nowMs;
    for (let i = 0; i < n; i++) {
      keys[i] = this.#prefix + 'b:' + specs[i].key;
      args[1 + 2 * i] = specs[i].rateLimit;
      args[2 + 2 * i] = specs[i].burstLimit;
    }
    return this.#submit(TAKE, keys, args).then(
      (reply) => bucketDecision(reply, n),
      (err: Error) => {
        this.#markFailed(err);
        return this.#failBuckets();
      },
    );
  }

  consumeQuota(key: string, limit: number, windowEndMs: number, nowMs: number): QuotaDecision | Promise<QuotaDecision> {
    if (this.#redis.status !== 'ready') return this.#failQuota(limit);
    return this.#submit(QUOTA, [this.#prefix + 'q:' + key], [limit, windowEndMs, nowMs, this.#quotaGraceMs]).then(
      ([allowed, used]) => ({ allowed: allowed === 1, used, remaining: Math.max(0, limit - used) }),
      (err: Error) => {
        this.#markFailed(err);
        return this.#failQuota(limit);
      },
    );
  }

  takeBucketsAndQuota(specs: readonly BucketSpec[], quota: QuotaRequest, nowMs: number): CombinedDecision | Promise<CombinedDecision> {
    const { key, limit, windowEndMs } = quota;
    if (this.#redis.status !== 'ready') return this.#failCombined(limit);
    const n = specs.length;
    const keys = new Array<string>(n + 1);
    const args: Array<string | number> = new Array(1 + 2 * n + 3);
    args[0] = nowMs;
    for (let i = 0; i < n; i++) {
      keys[i] = this.#prefix + 'b:' + specs[i].key;
      args[1 + 2 * i] = specs[i].rateLimit;
      args[2 + 2 * i] = specs[i].burstLimit;
    }
    keys[n] = this.#prefix + 'q:' + key;
    args[1 + 2 * n] = limit;
    args[2 + 2 * n] = windowEndMs;
    args[3 + 2 * n] = this.#quotaGraceMs;
    return this.#submit(TAKE_AND_COUNT, keys, args).then(
      (reply) => ({
        buckets: bucketDecision(reply, n),
        quota: reply[4] === 1 ? { allowed: reply[5] === 1, used: reply[6], remaining: Math.max(0, limit - reply[6]) } : undefined,
      }),
      (err: Error) => {
        this.#markFailed(err);
        return this.#failCombined(limit);
      },
    );
  }

  /*
   * Decisions asked in the same turn of the event loop (the requests of one read from many connections) leave
   * together in ONE script call (BATCH_LUA): one command, one promise and one reply to parse on this side instead
   * of one each, about half the client CPU per decision (bench/counters.ts). Still exact: the script decides
   * them one by one, atomically, in the order they were asked. Batches do not wait for each other.
   */
  #queue: PendingDecision[] = [];
  #scheduled = false;
  #batches = 0;

  /** Script calls that carried decisions (each one round trip), for tests and metrics. */
  get decisionCalls(): number {
    return this.#batches;
  }

  #submit(kind: number, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<number[]> {
    return new Promise<number[]>((resolve, reject) => {
      this.#queue.push({ kind, keys, args, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    let batch = this.#queue;
    if (batch.length > MAX_BATCH) {
      this.#queue = batch.slice(MAX_BATCH);
      batch = batch.slice(0, MAX_BATCH);
      this.#scheduled = true;
      setImmediate(this.#flush);
    } else {
      this.#queue = [];
    }
    if (batch.length === 0) return;
    let keyCount = 0;
    let argCount = 1;
    for (const d of batch) {
      keyCount += d.keys.length;
      argCount += 3 + d.args.length;
    }
    const call: Array<string | number> = new Array(1 + keyCount + argCount);
    call[0] = keyCount;
    let k = 1;
    let a = 1 + keyCount;
    call[a++] = batch.length;
    for (const d of batch) {
      for (const key of d.keys) call[k++] = key;
      call[a++] = d.kind;
      call[a++] = d.keys.length;
      call[a++] = d.args.length;
      for (const arg of d.args) call[a++] = arg;
    }
    this.#batches++;
    this.#batch(...call).then(
      (replies) => {
        if (!this.#ok) this.#markOk();
        const r = replies as number[][];
        for (let i = 0; i < batch.length; i++) batch[i].resolve(r[i]);
      },
      (err: Error) => {
        for (const d of batch) d.reject(err);
      },
    );
  };

  /**
   * Leases tokens (and quota counts) for the approximate mode: `wants[i]` whole tokens from bucket i, all or
   * nothing as takeBuckets, and `quota.want` counts when the buckets allowed. One script call; never throws
   * (the fail mode answers in `failed`).
   */
  lease(specs: readonly BucketSpec[], wants: readonly number[], quota: QuotaLeaseRequest | undefined, nowMs: number): LeaseReply | Promise<LeaseReply> {
    const limit = quota?.limit ?? 0;
    if (this.#redis.status !== 'ready') return this.#failLease(quota !== undefined, limit);
    const n = specs.length;
    const args: Array<string | number> = [n + (quota ? 1 : 0)];
    for (let i = 0; i < n; i++) args.push(this.#prefix + 'b:' + specs[i].key);
    if (quota) args.push(this.#prefix + 'q:' + quota.key);
    args.push(nowMs, n);
    for (let i = 0; i < n; i++) args.push(specs[i].rateLimit, specs[i].burstLimit, wants[i]);
    if (quota) args.push(quota.limit, quota.windowEndMs, quota.want, this.#quotaGraceMs);
    return this.#lease(...args).then(
      (reply) => {
        if (!this.#ok) this.#markOk();
        const r = reply as number[];
        const buckets: BucketDecision = {
          allowed: r[0] === 1,
          remaining: r[0] === 1 ? Number.POSITIVE_INFINITY : r[1],
          retryAfterMs: r[2] < 0 ? Number.POSITIVE_INFINITY : r[2],
          deniedBy: r[3],
        };
        if (!buckets.allowed) return { buckets, granted: [], left: [] };
        const granted = new Array<number>(n);
        const left = new Array<number>(n);
        for (let i = 0; i < n; i++) {
          granted[i] = r[4 + 2 * i];
          left[i] = r[5 + 2 * i];
        }
        const q = 4 + 2 * n;
        return quota
          ? { buckets, granted, left, quota: { granted: r[q], used: r[q + 1], windowEndMs: r[q + 2] } }
          : { buckets, granted, left };
      },
      (err: Error) => {
        this.#markFailed(err);
        return this.#failLease(quota !== undefined, limit);
      },
    );
  }

  /** Gives unspent leases back (one script call). Rejects when Redis cannot be asked: the leases are then lost. */
  async returnLeases(leases: LeaseReturn, nowMs: number): Promise<void> {
    const nb = leases.buckets.length;
    if (nb + leases.quotas.length === 0) return;
    const args: Array<string | number> = [nb + leases.quotas.length];
    for (const b of leases.buckets) args.push(this.#prefix + 'b:' + b.spec.key);
    for (const q of leases.quotas) args.push(this.#prefix + 'q:' + q.key);
    args.push(nowMs, nb);
    for (const b of leases.buckets) args.push(b.spec.rateLimit, b.spec.burstLimit, b.tokens);
    for (const q of leases.quotas) args.push(q.count, q.windowEndMs);
    await this.#returnLeases(...args);
  }

  #failLease(withQuota: boolean, limit: number): LeaseReply {
    const failed = withQuota ? this.#failCombined(limit) : { buckets: this.#failBuckets(), quota: undefined };
    return { buckets: failed.buckets, granted: [], left: [], failed };
  }

  async getQuota(key: string, nowMs: number): Promise<number> {
    const [n, e] = await this.#redis.hmget(this.#prefix + 'q:' + key, 'n', 'e');
    return n !== null && e !== null && Number(e) > nowMs ? Number(n) : 0;
  }

  async setQuota(key: string, used: number, windowEndMs: number, nowMs: number): Promise<void> {
    const n = Math.max(0, Math.floor(used));
    await this.#setQuota(this.#prefix + 'q:' + key, n, windowEndMs, nowMs, this.#quotaGraceMs);
  }

  health(): CounterHealth {
    return this.#ok
      ? { ok: true, since: this.#since, degradedDecisions: this.#degraded }
      : { ok: false, since: this.#since, lastError: this.#lastError ?? 'unknown error', degradedDecisions: this.#degraded };
  }

  #failBuckets(): BucketDecision {
    this.#degraded++;
    return failBucketDecision(this.#failMode);
  }

  #failCombined(limit: number): CombinedDecision {
    const buckets = this.#failBuckets();
    return { buckets, quota: buckets.allowed ? this.#failQuota(limit) : undefined };
  }

  #failQuota(limit: number): QuotaDecision {
    this.#degraded++;
    return failQuotaDecision(this.#quotaFailMode, limit);
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#redis.status === 'ready') {
      try {
        await this.#redis.quit();
        return;
      } catch {
        // fall through to a hard disconnect
      }
    }
    this.#redis.disconnect();
  }

  #markOk(): void {
    if (this.#closing) return;
    if (!this.#ok) {
      this.#ok = true;
      this.#since = this.#clock.now();
      this.#lastError = undefined;
    }
    // Recoveries are always reported when the outage was: the log must not end on "down" while up.
    if (!this.#reportedOk) this.#report(true);
  }

  #markFailed(err: Error): void {
    if (this.#closing) return;
    const now = this.#clock.now();
    if (this.#ok) {
      this.#ok = false;
      this.#since = now;
    }
    this.#lastError = err.message || String(err);
    // At most one outage report per interval, however many requests fail; a flap that was not reported is
    // reported by the next failure after the interval (reconnect attempts fail too, so that comes).
    if (this.#reportedOk && now - this.#lastReportMs >= this.#reportIntervalMs) this.#report(false, err);
  }

  #report(ok: boolean, err?: Error): void {
    this.#reportedOk = ok;
    this.#lastReportMs = this.#clock.now();
    if (this.#onHealthChange === undefined) return;
    try {
      this.#onHealthChange(ok, err);
    } catch {
      // A broken logger must not break the request path.
    }
  }
}

/** Creates the adapter and, unless waitForConnection is false, waits for Redis (rejecting clearly if down). */
export async function openRedisCounters(url: string, options: RedisCountersOptions = {}): Promise<RedisCounters> {
  const counters = new RedisCounters(url, options);
  if (options.waitForConnection === false) {
    counters.connect().catch(() => {
      // Reported through health/onHealthChange; the client keeps reconnecting.
    });
    return counters;
  }
  try {
    await counters.connect();
  } catch (err) {
    await counters.close();
    throw err;
  }
  return counters;
}

/** A bucket decision from a take reply {allowed, remaining, retryAfterMs, deniedBy, ...} for n buckets. */
function bucketDecision(reply: number[], n: number): BucketDecision {
  return {
    allowed: reply[0] === 1,
    remaining: n === 0 ? Number.POSITIVE_INFINITY : reply[1],
    retryAfterMs: reply[2] < 0 ? Number.POSITIVE_INFINITY : reply[2],
    deniedBy: reply[3],
  };
}

/** redis://user:secret@host:6379/2 -> redis://host:6379/2 (secrets never reach logs). */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid Redis URL)';
  }
}
