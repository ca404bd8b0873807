// The one source of time. Everything time-dependent (token buckets, quota windows, JWKS cooldowns,
// key expiry, request timestamps) takes a Clock so tests move time instead of sleeping.

export interface Clock {
  /** Milliseconds since the Unix epoch (may be fractional for fake clocks). */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

export interface FakeClock extends Clock {
  set(epochMs: number): void;
  advance(ms: number): void;
}

export function createFakeClock(startMs = Date.UTC(2026, 0, 1)): FakeClock {
  let t = startMs;
  return {
    now: () => t,
    set(epochMs) { t = epochMs; },
    advance(ms) { t += ms; },
  };
}
