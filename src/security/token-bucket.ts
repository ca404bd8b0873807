// Token-bucket arithmetic (AWS semantics, reference section 4.2): continuous refill at rateLimit tokens/s
// up to burstLimit, starting full. Pure functions of (limits, state, time): no I/O, no clock of its own.

export interface BucketLimits {
  /** Tokens added per second; may be fractional (0.1 = one request every 10 s); 0 = never refills. */
  readonly rateLimit: number;
  /** Capacity; 0 blocks every request (AWS: a burst of 0 throttles everything). */
  readonly burstLimit: number;
}

export interface BucketState {
  /** Tokens in the bucket at updatedMs (fractional). */
  readonly tokens: number;
  /** The latest time this state accounts for; refill is credited from here on, never before it. */
  readonly updatedMs: number;
}

export interface TakeResult {
  readonly allowed: boolean;
  /** The state to keep: consumed on success, only refilled on refusal (never mints tokens either way). */
  readonly state: BucketState;
  /** Whole tokens left after this decision. */
  readonly remaining: number;
  /** 0 when allowed; otherwise how long until `cost` tokens are there; Infinity when they never will be. */
  readonly retryAfterMs: number;
}

/**
 * Floating-point slack when comparing token counts: refilling 1/3 token three times must make a whole
 * token (1e-9 of a token is far below what any rate up to 1e6/s can mint in a representable instant).
 */
export const TOKEN_EPSILON = 1e-9;

export function fullBucket(limits: BucketLimits, nowMs: number): BucketState {
  return { tokens: limits.burstLimit, updatedMs: nowMs };
}

/** Tokens at nowMs. A clock that went backwards credits nothing, and the state keeps the later time. */
export function refill(limits: BucketLimits, state: BucketState, nowMs: number): BucketState {
  const cap = limits.burstLimit;
  // Limits may have been lowered since the state was written.
  const tokens = state.tokens > cap ? cap : state.tokens;
  if (!(nowMs > state.updatedMs)) return tokens === state.tokens ? state : { tokens, updatedMs: state.updatedMs };
  const grown = tokens + ((nowMs - state.updatedMs) * limits.rateLimit) / 1000;
  return { tokens: grown > cap ? cap : grown, updatedMs: nowMs };
}

/**
 * Takes `cost` tokens if they are there. `state` undefined means a bucket never used (full).
 * The refused state is returned too so callers may store it, though not storing it is equivalent.
 */
export function take(limits: BucketLimits, state: BucketState | undefined, nowMs: number, cost = 1): TakeResult {
  const current = state === undefined ? fullBucket(limits, nowMs) : refill(limits, state, nowMs);
  if (current.tokens + TOKEN_EPSILON >= cost) {
    const left = current.tokens - cost;
    const tokens = left > 0 ? left : 0;
    return {
      allowed: true,
      state: { tokens, updatedMs: current.updatedMs },
      remaining: wholeTokens(tokens),
      retryAfterMs: 0,
    };
  }
  return {
    allowed: false,
    state: current,
    remaining: wholeTokens(current.tokens),
    retryAfterMs: retryAfterMs(limits, current.tokens, cost),
  };
}

/** Milliseconds until `cost` tokens are available from `tokens`; Infinity if never (rate 0, or cost > burst). */
export function retryAfterMs(limits: BucketLimits, tokens: number, cost = 1): number {
  if (tokens + TOKEN_EPSILON >= cost) return 0;
  if (limits.rateLimit <= 0 || limits.burstLimit + TOKEN_EPSILON < cost) return Number.POSITIVE_INFINITY;
  // Aim at "within TOKEN_EPSILON of cost", the same test take() applies, so float residue cannot push the
  // answer one ms past the moment the request would pass.
  return Math.max(1, Math.ceil(((cost - tokens - TOKEN_EPSILON) * 1000) / limits.rateLimit));
}

/** Milliseconds until a bucket holding `tokens` is full again (Infinity at rate 0 unless already full). */
export function msUntilFull(limits: BucketLimits, tokens: number): number {
  const missing = limits.burstLimit - tokens;
  if (missing <= TOKEN_EPSILON) return 0;
  if (limits.rateLimit <= 0) return Number.POSITIVE_INFINITY;
  return Math.ceil((missing * 1000) / limits.rateLimit);
}

/** Whole tokens, tolerating float residue (2.9999999999 counts as 3). */
export function wholeTokens(tokens: number): number {
  return Math.floor(tokens + TOKEN_EPSILON);
}
