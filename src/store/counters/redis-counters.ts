// Redis counters for a cluster of gateway nodes: every decision is decided atomically by a Lua script (the
// decisions of one event-loop turn share one script call, one round trip), so token buckets and quotas are
// exact across nodes; a broken Redis never throws into the request path.
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { systemClock, type Clock } from '../../core/clock.ts';
import {
  failBucketDecision, failQuotaDecision, usageRecordId,
  type BucketDecision, type BucketSpec, type CombinedDecision, type CounterHealth, type CounterStore, type FailMode, type QuotaDecision,
  type QuotaRequest, type UsageLedger,
} from './ports.ts';
import type { UsageCount, UsageDelta } from '../api-keys-port.ts';

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
 * Storage. A bucket is a 16-byte string under "<prefix>b2:<key>": two little-endian doubles, tokens and
 * updatedMs (exact, and read with one GET and written with one SET ... PX instead of a hash read, a hash
 * write and a PEXPIRE); a missing bucket is full. ("b2": the first format kept buckets as hashes under "b:";
 * the two never meet, so nodes of either version never fail on each other's keys, and the old ones expire
 * by themselves once full.) A quota is a hash "<prefix>q:<key>" {n: used, e: windowEndMs}.
 *
 * Usage records (accepted requests per plan, key and UTC day; GetUsage reads them from the Store): a hash per day,
 * "<prefix>u:<YYYY-MM-DD>", field "<plan>\n<keyId>", counted by the decision that accepts a request, in the same
 * script call; each count also adds "<hash>\n<field>" to the set "<prefix>ud" of records the Store has not seen
 * yet. A syncer (usage-sync.ts, one node at a time under the lease "<prefix>ul") copies their whole counts to the
 * Store and removes them from the set only if they did not change meanwhile; a day's hash expires
 * USAGE_KEEP_MS after its first copy. So a gateway node killed at any moment loses no usage.
 *
 * Every script below reads a bucket or a quota at most once per call and writes it back at most once, at the
 * end (state(), flush()): a call carrying twenty decisions that all take from the account bucket reads and
 * writes it once, not twenty times. Redis runs a script atomically, so this is the same as deciding them one
 * by one against the store.
 */
const STATE_LUA = `
local EPS = 1e-9
local buckets, bucketOrder = {}, {}
local quotas, quotaOrder = {}, {}
-- Usage counted by this call: tallies[day hash][field] = n; DIRTY: the set of records not yet copied to the Store.
local tallies = {}
local DIRTY

-- The bucket at key, read once per call: {t = tokens, u = updatedMs}; a missing one is full at now.
local function bucket(key, cap, now)
  local b = buckets[key]
  if b == nil then
    local v = redis.call('GET', key)
    if v and #v == 16 then
      local t, u = struct.unpack('<dd', v)
      b = {t = t, u = u}
    else
      b = {t = cap, u = now}
    end
    buckets[key] = b
    bucketOrder[#bucketOrder + 1] = key
  end
  return b
end

-- Tokens in bucket b at now (refilled, capped at the burst) and the time they account for (updatedMs never
-- goes back: a node whose clock is behind credits nothing until it catches up).
local function refilled(b, rate, cap, now)
  local t, u = b.t, b.u
  if t > cap then t = cap end
  if now > u then
    t = t + (now - u) * rate / 1000
    if t > cap then t = cap end
    u = now
  end
  return t, u
end

local function put(b, t, u, rate, cap)
  b.t = t
  b.u = u
  b.rate = rate
  b.cap = cap
  b.dirty = true
end

-- ms until a bucket holding t tokens has a whole one; math.huge when it never will.
local function wait_ms(t, rate, cap)
  if rate > 0 and cap + EPS >= 1 then return math.max(1, math.ceil((1 - t - EPS) * 1000 / rate)) end
  return math.huge
end

-- Refills buckets K[k0 + 1 .. k0 + n] (rate and burst of bucket i at R[r0 + s*i] and R[r0 + s*i + 1]) and finds
-- the one that refuses with the longest wait. Returns the buckets, their tokens and times, deniedBy (0-based,
-- -1), its wait (-1: never) and remaining: whole tokens of the refusing bucket, else the fewest left after one each.
local function check(K, k0, n, R, r0, s, now)
  local bs, tok, upd = {}, {}, {}
  local deniedBy, worst, remaining = -1, -1, nil
  for i = 1, n do
    local rate = R[r0 + s * i]
    local cap = R[r0 + s * i + 1]
    local b = bucket(K[k0 + i], cap, now)
    local t, u = refilled(b, rate, cap, now)
    bs[i] = b
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
  return bs, tok, upd, deniedBy, worst, remaining
end

-- The quota hash at key as stored, read once per call: {n = used, e = windowEndMs} (e = -1: none).
local function stored_quota(key)
  local q = quotas[key]
  if q == nil then
    local v = redis.call('HMGET', key, 'n', 'e')
    if v[1] and v[2] then q = {n = tonumber(v[1]), e = tonumber(v[2])} else q = {n = 0, e = -1} end
    quotas[key] = q
    quotaOrder[#quotaOrder + 1] = key
  end
  return q
end

-- The quota window that counts for a caller whose window ends at wend: a stored window ending before wend is
-- over (a new one starts at 0 and is stored with its expiry: its end plus the grace); one ending at or after it
-- (a peer rolled over first) is the current one.
local function window(key, wend, now, grace)
  local q = stored_quota(key)
  if q.e < wend then
    q.n = 0
    q.e = wend
    q.fresh = true
    q.ttl = math.ceil(math.max(1, wend - now) + grace)
  end
  return q
end

-- Counts one request if the window stays within limit: 1|0 and the count.
local function count(key, limit, wend, now, grace)
  local q = window(key, wend, now, grace)
  if q.n + 1 > limit then return 0, q.n end
  q.n = q.n + 1
  q.dirty = true
  return 1, q.n
end

-- Counts n accepted requests of the record field (plan, key) in the day hash.
local function tally(hash, field, n)
  local t = tallies[hash]
  if t == nil then
    t = {}
    tallies[hash] = t
  end
  t[field] = (t[field] or 0) + n
end

-- Writes back what this call changed. A bucket expires once it would be full again (a missing bucket is a full
-- one), plus a second for clock skew; a bucket that never refills never expires (forgetting it would mint a
-- full burst). A quota window keeps the expiry set when it started.
local function flush()
  for i = 1, #bucketOrder do
    local key = bucketOrder[i]
    local b = buckets[key]
    if b.dirty then
      local v = struct.pack('<dd', b.t, b.u)
      if b.rate > 0 then
        local ttl = math.ceil((b.cap - b.t) * 1000 / b.rate) + 1000
        if ttl > 1e15 then ttl = 1e15 end
        redis.call('SET', key, v, 'PX', string.format('%d', ttl))
      else
        redis.call('SET', key, v)
      end
    end
  end
  for i = 1, #quotaOrder do
    local key = quotaOrder[i]
    local q = quotas[key]
    if q.dirty then
      if q.fresh then
        redis.call('HSET', key, 'n', string.format('%.17g', q.n), 'e', string.format('%.17g', q.e))
        redis.call('PEXPIRE', key, string.format('%d', q.ttl))
      else
        redis.call('HSET', key, 'n', string.format('%.17g', q.n))
      end
    end
  end
  for hash, t in pairs(tallies) do
    for field, n in pairs(t) do
      redis.call('HINCRBY', hash, field, string.format('%d', n))
      redis.call('SADD', DIRTY, hash .. '\\n' .. field)
    end
  end
end
`;

/**
 * Many decisions in one script call (exact: Redis runs them one after the other, atomically, in the order they
 * were asked). KEYS: the keys of the call's decisions, each once. ARGV[1]: little-endian doubles (exact, and
 * one argument for Redis to parse instead of a dozen per decision): how many decisions and the position in KEYS
 * of the usage set (0: no decision counts usage), then per decision its kind, key count and argument count, its
 * keys (positions in KEYS), then its arguments. ARGV[2...]: the usage record fields (plan, key) of the call.
 * - take (1) and take with quota (2): nowMs, rateLimit and burstLimit per bucket, then (2) limit, windowEndMs,
 *   graceMs for the quota (its key last). Takes a token from every bucket only if all allow; then counts the quota.
 * - quota (3): limit, windowEndMs, nowMs, graceMs.
 * A kind + 4 also counts usage when the decision allows (a quota decision: when the quota allows): its last key is
 * the day's usage hash, its last argument the position in ARGV of the record's field.
 * Returns one string of seven little-endian doubles per decision: allowed 0|1, remaining (-1: no bucket),
 * retryAfterMs (-1: never), deniedBy (0-based, -1), quotaAsked 0|1, quotaAllowed 0|1, used.
 */
const BATCH_LUA = STATE_LUA + `
local P = ARGV[1]
local FMT = {}
local n, dirty, pos = struct.unpack('<dd', P)
if dirty > 0 then DIRTY = KEYS[dirty] end
local out = {}
for d = 1, n do
  local kind, nk, na
  kind, nk, na, pos = struct.unpack('<ddd', P, pos)
  local f = FMT[nk + na]
  if f == nil then
    f = '<' .. string.rep('d', nk + na)
    FMT[nk + na] = f
  end
  local V = {struct.unpack(f, P, pos)}
  pos = V[nk + na + 1]
  local K = {}
  for i = 1, nk do K[i] = KEYS[V[i]] end
  -- nc: the counter keys (buckets, quota); a usage hash follows them.
  local nc, usage = nk, nil
  if kind > 3 then
    kind = kind - 4
    nc = nk - 1
    usage = K[nk]
  end
  if kind == 3 then
    local ok, used = count(K[1], V[nk + 1], V[nk + 2], V[nk + 3], V[nk + 4])
    if usage and ok == 1 then tally(usage, ARGV[V[nk + na]], 1) end
    out[d] = struct.pack('<ddddddd', ok, 0, 0, -1, 1, ok, used)
  else
    local now = V[nk + 1]
    local nb = nc
    if kind == 2 then nb = nc - 1 end
    local bs, tok, upd, deniedBy, worst, remaining = check(K, 0, nb, V, nk, 2, now)
    if deniedBy >= 0 then
      out[d] = struct.pack('<ddddddd', 0, remaining, worst, deniedBy, 0, 0, 0)
    else
      for i = 1, nb do
        local t = tok[i] - 1
        if t < 0 then t = 0 end
        put(bs[i], t, upd[i], V[nk + 2 * i], V[nk + 2 * i + 1])
      end
      if remaining == nil then remaining = -1 end
      if kind == 2 then
        local q = nk + 2 * nb + 2
        local ok, used = count(K[nc], V[q], V[q + 1], now, V[q + 2])
        if usage and ok == 1 then tally(usage, ARGV[V[nk + na]], 1) end
        out[d] = struct.pack('<ddddddd', 1, remaining, 0, -1, 1, ok, used)
      else
        if usage then tally(usage, ARGV[V[nk + na]], 1) end
        out[d] = struct.pack('<ddddddd', 1, remaining, 0, -1, 0, 0, 0)
      end
    end
  end
end
flush()
return table.concat(out)
`;

/** Decisions sent in one script call at most (Redis runs nothing else while a script runs). */
const MAX_BATCH = 128;
/** Counter keys whose Redis names are kept (per kind); 100,000 keys in plans fit. */
const MAX_NAMES = 250_000;
const TAKE = 1;
const TAKE_AND_COUNT = 2;
const QUOTA = 3;
/** Added to a kind: the decision also counts a usage record. */
const WITH_USAGE = 4;
/** Bytes of one decision's reply (seven doubles). */
const REPLY_BYTES = 56;

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
 * windowEndMs, want, graceMs. Every bucket must hold a whole token or nothing is taken (as a take in BATCH_LUA);
 * each then gives min(want, whole tokens). The quota is asked only when the buckets allowed; it gives
 * min(want, limit - used), nothing when that is below 1.
 * Returns {allowed, remaining, retryAfterMs (-1 = never), deniedBy, then per bucket: granted, whole tokens left,
 * then with a quota: granted, used, windowEndMs}.
 */
const LEASE_LUA = STATE_LUA + `
local A = {}
for i = 1, #ARGV do A[i] = tonumber(ARGV[i]) end
local now = A[1]
local nb = A[2]
local bs, tok, upd, deniedBy, worst, remaining = check(KEYS, 0, nb, A, 0, 3, now)
if deniedBy >= 0 then return {0, remaining, worst, deniedBy} end
local out = {1, 0, 0, -1}
for i = 1, nb do
  local want = A[3 * i + 2]
  local g = math.floor(tok[i] + EPS)
  if g > want then g = want end
  local t = tok[i] - g
  if t < 0 then t = 0 end
  put(bs[i], t, upd[i], A[3 * i], A[3 * i + 1])
  out[#out + 1] = g
  out[#out + 1] = math.floor(t + EPS)
end
if #KEYS > nb then
  local a = 3 * nb + 3
  local q = window(KEYS[nb + 1], A[a + 1], now, A[a + 3])
  local g = A[a] - q.n
  if g > A[a + 2] then g = A[a + 2] end
  if g < 1 then
    g = 0
  else
    q.n = q.n + g
    q.dirty = true
  end
  out[#out + 1] = g
  out[#out + 1] = q.n
  out[#out + 1] = q.e
end
flush()
return out
`;

/**
 * Gives unspent leases back. KEYS[1..nb]: buckets, then quota hashes. ARGV: nowMs, nb, then rateLimit,
 * burstLimit, tokens per bucket, then count, windowEndMs per quota. A bucket takes its tokens back up to its
 * burst (a missing bucket is full: nothing to give back to); a quota gives its counts back only while its window
 * is the one they were leased in (a later window already started from 0).
 */
const RETURN_LEASES_LUA = STATE_LUA + `
local A = {}
for i = 1, #ARGV do A[i] = tonumber(ARGV[i]) end
local now = A[1]
local nb = A[2]
for i = 1, nb do
  local rate = A[3 * i]
  local cap = A[3 * i + 1]
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local b = bucket(KEYS[i], cap, now)
    local t, u = refilled(b, rate, cap, now)
    t = t + A[3 * i + 2]
    if t > cap then t = cap end
    put(b, t, u, rate, cap)
  end
end
local a = 3 * nb + 3
for j = nb + 1, #KEYS do
  local q = stored_quota(KEYS[j])
  if q.e == A[a + 1] then
    q.n = math.max(0, q.n - A[a])
    q.dirty = true
  end
  a = a + 2
end
flush()
return 1
`;

/**
 * Usage counts a node made without a decision (fail-open decisions, report-only refusals, the approximate mode).
 * KEYS: the day hash of each count, then the usage set. ARGV: field and count of each.
 */
const ADD_USAGE_LUA = STATE_LUA + `
DIRTY = KEYS[#KEYS]
for i = 1, #KEYS - 1 do tally(KEYS[i], ARGV[2 * i - 1], tonumber(ARGV[2 * i])) end
flush()
return 1
`;

/*
 * The syncer's two calls. Members of the usage set are "<day hash>\n<field>": the hash is read by name from the
 * member, not from KEYS (a standalone Redis allows it; on Redis Cluster the usage keys would need one hash tag).
 */
/**
 * KEYS[1]: the usage set, KEYS[2]: the copying lease. ARGV: limit, this node's token, lease ms. Takes or renews the
 * lease (nil when another node holds it), then answers up to `limit` changed records: member, whole count, ...
 */
const USAGE_CHANGED_LUA = `
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[2] then return false end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
local out = {}
for _, m in ipairs(redis.call('SRANDMEMBER', KEYS[1], tonumber(ARGV[1]))) do
  local cut = string.find(m, '\\n', 1, true)
  out[#out + 1] = m
  out[#out + 1] = redis.call('HGET', string.sub(m, 1, cut - 1), string.sub(m, cut + 1)) or '0'
end
return out
`;

/**
 * KEYS[1]: the usage set. ARGV: the day hashes' expiry (ms), then member and the count the Store now has, per
 * record. A record counted again since it was read stays in the set; a day's hash gets its expiry at its first copy.
 */
const USAGE_CONFIRM_LUA = `
for i = 2, #ARGV, 2 do
  local m = ARGV[i]
  local cut = string.find(m, '\\n', 1, true)
  local hash = string.sub(m, 1, cut - 1)
  if (redis.call('HGET', hash, string.sub(m, cut + 1)) or '0') == ARGV[i + 1] then redis.call('SREM', KEYS[1], m) end
  if redis.call('PTTL', hash) == -1 then redis.call('PEXPIRE', hash, ARGV[1]) end
end
return 1
`;

/** How long a day's usage hash is kept after its first copy to the Store (the Store keeps the records). */
export const USAGE_KEEP_MS = 3 * 86_400_000;
/** How long one node holds the copying lease without renewing it (the syncer renews it every second). */
const USAGE_LEASE_MS = 3_000;

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

type ScriptFn = (...args: Array<string | number | Buffer>) => Promise<unknown>;

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
  readonly #addUsage: ScriptFn;
  readonly #usageChanged: ScriptFn;
  readonly #usageConfirm: ScriptFn;
  /** This node's token for the usage copying lease. */
  readonly #usageToken = randomBytes(12).toString('hex');
  readonly countsUsage = true;
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
    if (prefix.includes('\n')) throw new Error('counters: the Redis key prefix must not contain a newline');
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
    this.#redis.defineCommand('portcullisAddUsage', { lua: ADD_USAGE_LUA });
    this.#redis.defineCommand('portcullisUsageChanged', { lua: USAGE_CHANGED_LUA, numberOfKeys: 2 });
    this.#redis.defineCommand('portcullisUsageConfirm', { lua: USAGE_CONFIRM_LUA, numberOfKeys: 1 });
    const commands = this.#redis as unknown as Record<string, ScriptFn>;
    this.#batch = commands.portcullisDecideBuffer.bind(this.#redis);
    this.#setQuota = commands.portcullisSetQuota.bind(this.#redis);
    this.#lease = commands.portcullisLease.bind(this.#redis);
    this.#returnLeases = commands.portcullisReturnLeases.bind(this.#redis);
    this.#addUsage = commands.portcullisAddUsage.bind(this.#redis);
    this.#usageChanged = commands.portcullisUsageChanged.bind(this.#redis);
    this.#usageConfirm = commands.portcullisUsageConfirm.bind(this.#redis);
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

  takeBuckets(specs: readonly BucketSpec[], nowMs: number, usage?: string): BucketDecision | Promise<BucketDecision> {
    const n = specs.length;
    if (n === 0 && usage === undefined) return { allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterMs: 0, deniedBy: -1 };
    if (this.#redis.status !== 'ready') return this.#failBuckets();
    const keys = new Array<string>(n + (usage ? 1 : 0));
    const args = new Array<number>(1 + 2 * n);
    args[0] = nowMs;
    for (let i = 0; i < n; i++) {
      keys[i] = this.#name('b2:', specs[i].key);
      args[1 + 2 * i] = specs[i].rateLimit;
      args[2 + 2 * i] = specs[i].burstLimit;
    }
    if (usage) keys[n] = this.#usageHash(nowMs);
    return this.#submit<BucketDecision>(TAKE, keys, args, n, 0, usage);
  }

  consumeQuota(key: string, limit: number, windowEndMs: number, nowMs: number, usage?: string): QuotaDecision | Promise<QuotaDecision> {
    if (this.#redis.status !== 'ready') return this.#failQuota(limit);
    const keys = usage ? [this.#name('q:', key), this.#usageHash(nowMs)] : [this.#name('q:', key)];
    return this.#submit<QuotaDecision>(QUOTA, keys, [limit, windowEndMs, nowMs, this.#quotaGraceMs], 0, limit, usage);
  }

  takeBucketsAndQuota(specs: readonly BucketSpec[], quota: QuotaRequest, nowMs: number, usage?: string): CombinedDecision | Promise<CombinedDecision> {
    const { key, limit, windowEndMs } = quota;
    if (this.#redis.status !== 'ready') return this.#failCombined(limit);
    const n = specs.length;
    const keys = new Array<string>(n + (usage ? 2 : 1));
    const args = new Array<number>(1 + 2 * n + 3);
    args[0] = nowMs;
    for (let i = 0; i < n; i++) {
      keys[i] = this.#name('b2:', specs[i].key);
      args[1 + 2 * i] = specs[i].rateLimit;
      args[2 + 2 * i] = specs[i].burstLimit;
    }
    keys[n] = this.#name('q:', key);
    args[1 + 2 * n] = limit;
    args[2 + 2 * n] = windowEndMs;
    args[3 + 2 * n] = this.#quotaGraceMs;
    if (usage) keys[n + 1] = this.#usageHash(nowMs);
    return this.#submit<CombinedDecision>(TAKE_AND_COUNT, keys, args, n, limit, usage);
  }

  /** The usage hash of the UTC day of nowMs ("<prefix>u:YYYY-MM-DD"), built once per day. */
  #usageHash(nowMs: number): string {
    if (nowMs < this.#dayStart || nowMs >= this.#dayStart + 86_400_000) {
      this.#dayStart = nowMs - (((nowMs % 86_400_000) + 86_400_000) % 86_400_000);
      this.#dayHash = this.#prefix + 'u:' + new Date(this.#dayStart).toISOString().slice(0, 10);
    }
    return this.#dayHash;
  }

  #dayStart = Number.NEGATIVE_INFINITY;
  #dayHash = '';

  /**
   * The Redis key of a bucket ('b2:') or quota ('q:'), one string per counter key: a counter key comes from the
   * compiled configuration or a key's plan and is asked again and again, so its name is built (and hashed, when
   * a batch collects its distinct keys) once. Bounded: the memo starts over past MAX_NAMES.
   */
  #name(kind: 'b2:' | 'q:', key: string): string {
    const memo = kind === 'q:' ? this.#quotaNames : this.#bucketNames;
    let name = memo.get(key);
    if (name === undefined) {
      if (memo.size >= MAX_NAMES) memo.clear();
      name = this.#prefix + kind + key;
      memo.set(key, name);
    }
    return name;
  }

  readonly #bucketNames = new Map<string, string>();
  readonly #quotaNames = new Map<string, string>();

  /*
   * Decisions asked in the same turn of the event loop (the requests of one read from many connections) leave
   * together in ONE script call (BATCH_LUA): one command and one reply for Redis to parse and for this side to
   * build and decode, and each bucket and quota read and written once per call. Still exact: the script decides
   * them one by one, atomically, in the order they were asked. Batches do not wait for each other. Arguments and
   * replies travel as doubles in one string each (bench/counters.ts has the figures).
   */
  #queue: PendingDecision[] = [];
  #scheduled = false;
  #batches = 0;

  /** Script calls that carried decisions (each one round trip), for tests and metrics. */
  get decisionCalls(): number {
    return this.#batches;
  }

  #submit<T>(kind: number, keys: readonly string[], args: readonly number[], buckets: number, limit: number, usage: string | undefined): Promise<T> {
    return new Promise<T>((resolve) => {
      this.#queue.push({ kind, keys, args, buckets, limit, field: usage, resolve: resolve as (decision: unknown) => void });
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
    // Each distinct key once (the account bucket is in every decision); decisions name theirs by position. The
    // same for usage record fields, in ARGV after the packed numbers.
    const index = new Map<string, number>();
    let fields: Map<string, number> | undefined;
    const call: Array<string | number | Buffer> = [0];
    let doubles = 2;
    for (const d of batch) {
      doubles += 3 + d.keys.length + d.args.length;
      for (const key of d.keys) {
        if (!index.has(key)) {
          index.set(key, call.length);
          call.push(key);
        }
      }
      if (d.field !== undefined) {
        doubles++;
        fields ??= new Map();
        if (!fields.has(d.field)) fields.set(d.field, fields.size + 2);
      }
    }
    let dirty = 0;
    if (fields) {
      dirty = call.length;
      call.push(this.#prefix + 'ud');
    }
    call[0] = call.length - 1;
    const packed = Buffer.allocUnsafe(8 * doubles);
    const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
    view.setFloat64(0, batch.length, true);
    view.setFloat64(8, dirty, true);
    let o = 16;
    for (const d of batch) {
      const field = d.field;
      view.setFloat64(o, field === undefined ? d.kind : d.kind + WITH_USAGE, true);
      view.setFloat64(o + 8, d.keys.length, true);
      view.setFloat64(o + 16, field === undefined ? d.args.length : d.args.length + 1, true);
      o += 24;
      for (const key of d.keys) {
        view.setFloat64(o, index.get(key)!, true);
        o += 8;
      }
      for (const arg of d.args) {
        view.setFloat64(o, arg, true);
        o += 8;
      }
      if (field !== undefined) {
        view.setFloat64(o, fields!.get(field)!, true);
        o += 8;
      }
    }
    call.push(packed);
    if (fields) for (const field of fields.keys()) call.push(field);
    this.#batches++;
    this.#batch(...call).then(
      (reply) => {
        if (!this.#ok) this.#markOk();
        const r = reply as Buffer;
        if (r.length !== REPLY_BYTES * batch.length) {
          this.#failBatch(batch, new Error(`counters: Redis answered ${r.length} bytes for ${batch.length} decisions`));
          return;
        }
        const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
        for (let i = 0; i < batch.length; i++) batch[i].resolve(decode(batch[i], v, i * REPLY_BYTES));
      },
      (err: Error) => this.#failBatch(batch, err),
    );
  };

  /** Answers every decision of a batch that Redis did not decide with the fail mode. */
  #failBatch(batch: readonly PendingDecision[], err: Error): void {
    this.#markFailed(err);
    for (const d of batch) {
      d.resolve(d.kind === TAKE ? this.#failBuckets() : d.kind === QUOTA ? this.#failQuota(d.limit) : this.#failCombined(d.limit));
    }
  }

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
    for (let i = 0; i < n; i++) args.push(this.#prefix + 'b2:' + specs[i].key);
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
    for (const b of leases.buckets) args.push(this.#prefix + 'b2:' + b.spec.key);
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

  /** Usage records in Redis (see "Usage records" above). */
  readonly usage: UsageLedger = {
    add: async (deltas: readonly UsageDelta[]): Promise<void> => {
      if (deltas.length === 0) return;
      const keys: string[] = [];
      const args: string[] = [];
      for (const d of deltas) {
        keys.push(`${this.#prefix}u:${d.day}`);
        args.push(usageRecordId(d.plan, d.keyId), String(d.used));
      }
      await this.#addUsage(keys.length + 1, ...keys, this.#prefix + 'ud', ...args);
    },
    changed: async (limit: number): Promise<readonly UsageCount[] | undefined> => {
      const reply = (await this.#usageChanged(this.#prefix + 'ud', this.#prefix + 'ul', limit, this.#usageToken, USAGE_LEASE_MS)) as string[] | null;
      if (reply === null) return undefined;
      const out: UsageCount[] = [];
      const hashPrefix = this.#prefix + 'u:';
      for (let i = 0; i < reply.length; i += 2) {
        // "<prefix>u:<day>\n<plan>\n<keyId>": the prefix never holds a newline, plans and key ids neither.
        const [hash, plan, keyId] = reply[i].split('\n');
        if (keyId === undefined || !hash.startsWith(hashPrefix)) continue;
        out.push({ plan, keyId, day: hash.slice(hashPrefix.length), used: Number(reply[i + 1]) });
      }
      return out;
    },
    confirm: async (counts: readonly UsageCount[]): Promise<void> => {
      if (counts.length === 0) return;
      const args: string[] = [];
      for (const c of counts) args.push(`${this.#prefix}u:${c.day}\n${usageRecordId(c.plan, c.keyId)}`, String(c.used));
      await this.#usageConfirm(this.#prefix + 'ud', USAGE_KEEP_MS, ...args);
    },
  };

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

/** A decision waiting for its batch's reply. */
interface PendingDecision {
  readonly kind: number;
  readonly keys: readonly string[];
  readonly args: readonly number[];
  /** How many of the keys are buckets. */
  readonly buckets: number;
  /** The quota's limit (the fail mode's `remaining`). */
  readonly limit: number;
  /** The usage record (usageRecordId) the decision counts when it allows; its day hash is its last key. */
  readonly field: string | undefined;
  readonly resolve: (decision: unknown) => void;
}

/**
 * The decision of one reply: seven doubles at offset o (allowed, remaining, retryAfterMs, deniedBy, quotaAsked,
 * quotaAllowed, used).
 */
function decode(d: PendingDecision, v: DataView, o: number): BucketDecision | QuotaDecision | CombinedDecision {
  if (d.kind === QUOTA) {
    const used = v.getFloat64(o + 48, true);
    return { allowed: v.getFloat64(o + 40, true) === 1, used, remaining: Math.max(0, d.limit - used) };
  }
  const retry = v.getFloat64(o + 16, true);
  const buckets: BucketDecision = {
    allowed: v.getFloat64(o, true) === 1,
    remaining: d.buckets === 0 ? Number.POSITIVE_INFINITY : v.getFloat64(o + 8, true),
    retryAfterMs: retry < 0 ? Number.POSITIVE_INFINITY : retry,
    deniedBy: v.getFloat64(o + 24, true),
  };
  if (d.kind === TAKE) return buckets;
  if (v.getFloat64(o + 32, true) !== 1) return { buckets, quota: undefined };
  const used = v.getFloat64(o + 48, true);
  return { buckets, quota: { allowed: v.getFloat64(o + 40, true) === 1, used, remaining: Math.max(0, d.limit - used) } };
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
