// Unit tests for the token-bucket arithmetic: refill, burst, fractional rates, zero limits, clocks that go
// backwards, and properties over random schedules (time is a number we pass in; nothing sleeps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  fullBucket, msUntilFull, refill, retryAfterMs, take, wholeTokens,
  type BucketLimits, type BucketState,
} from './token-bucket.ts';

const T0 = Date.UTC(2026, 0, 1);

/** Runs `n` takes at `nowMs`, returning how many were allowed and the final state. */
function drain(limits: BucketLimits, state: BucketState | undefined, nowMs: number, n: number) {
  let allowed = 0;
  let s = state;
  for (let i = 0; i < n; i++) {
    const r = take(limits, s, nowMs);
    s = r.state;
    if (r.allowed) allowed++;
  }
  return { allowed, state: s! };
}

test('a new bucket starts full and allows exactly burst requests at one instant', () => {
  const limits = { rateLimit: 5, burstLimit: 10 };
  const { allowed, state } = drain(limits, undefined, T0, 25);
  assert.equal(allowed, 10);
  assert.equal(state.tokens, 0);
});

test('remaining counts down and retryAfterMs is 0 while allowed', () => {
  const limits = { rateLimit: 1, burstLimit: 3 };
  let s: BucketState | undefined;
  const seen: Array<[boolean, number, number]> = [];
  for (let i = 0; i < 4; i++) {
    const r = take(limits, s, T0);
    s = r.state;
    seen.push([r.allowed, r.remaining, r.retryAfterMs]);
  }
  assert.deepEqual(seen, [[true, 2, 0], [true, 1, 0], [true, 0, 0], [false, 0, 1000]]);
});

test('continuous refill: rate 10/s gives one token every 100 ms', () => {
  const limits = { rateLimit: 10, burstLimit: 10 };
  let { state } = drain(limits, undefined, T0, 10);
  let r = take(limits, state, T0 + 99);
  assert.equal(r.allowed, false);
  assert.equal(r.retryAfterMs, 1); // 0.99 token there, 0.01 missing = 1 ms
  r = take(limits, state, T0 + 100);
  assert.equal(r.allowed, true);
  state = r.state;
  assert.equal(take(limits, state, T0 + 100).allowed, false);
  // 550 ms later: 5.5 tokens, 5 whole.
  assert.equal(drain(limits, state, T0 + 650, 10).allowed, 5);
});

test('refill never exceeds the burst, however long the bucket idles', () => {
  const limits = { rateLimit: 100, burstLimit: 7 };
  const { state } = drain(limits, undefined, T0, 7);
  assert.equal(drain(limits, state, T0 + 86_400_000, 100).allowed, 7);
  assert.equal(refill(limits, state, T0 + 1e12).tokens, 7);
});

test('fractional rate: 0.1/s gives one request every 10 s', () => {
  const limits = { rateLimit: 0.1, burstLimit: 1 };
  let r = take(limits, undefined, T0);
  assert.equal(r.allowed, true);
  let s = r.state;
  r = take(limits, s, T0 + 9_999);
  assert.equal(r.allowed, false);
  assert.equal(r.retryAfterMs, 1);
  r = take(limits, s, T0 + 10_000);
  assert.equal(r.allowed, true);
  s = r.state;
  // Many fractional steps add up to whole tokens without float loss: 3 tokens over 100 steps of 300 ms.
  const limits3 = { rateLimit: 1 / 3, burstLimit: 100 };
  let st = drain(limits3, undefined, T0, 100).state;
  let t = T0;
  for (let i = 0; i < 100; i++) {
    t += 90; // 100 * 90 ms * (1/3)/s = 3 tokens
    st = refill(limits3, st, t);
  }
  assert.equal(wholeTokens(st.tokens), 3);
  assert.equal(drain(limits3, st, t, 5).allowed, 3);
});

test('a rate of 1/3 per second allows a request exactly every 3000 ms for many rounds', () => {
  const limits = { rateLimit: 1 / 3, burstLimit: 1 };
  let s = take(limits, undefined, T0).state;
  for (let i = 1; i <= 1000; i++) {
    const early = take(limits, s, T0 + i * 3000 - 1);
    assert.equal(early.allowed, false, `round ${i} early`);
    const r = take(limits, s, T0 + i * 3000);
    assert.equal(r.allowed, true, `round ${i}`);
    s = r.state;
  }
});

test('rate 0: only the burst, never refills; retry is Infinity', () => {
  const limits = { rateLimit: 0, burstLimit: 3 };
  const { allowed, state } = drain(limits, undefined, T0, 5);
  assert.equal(allowed, 3);
  const later = take(limits, state, T0 + 365 * 86_400_000);
  assert.equal(later.allowed, false);
  assert.equal(later.retryAfterMs, Number.POSITIVE_INFINITY);
  assert.equal(msUntilFull(limits, 0), Number.POSITIVE_INFINITY);
});

test('burst 0 blocks everything, whatever the rate', () => {
  for (const rateLimit of [0, 0.5, 10, 1_000_000]) {
    const limits = { rateLimit, burstLimit: 0 };
    let s: BucketState | undefined;
    for (let i = 0; i < 10; i++) {
      const r = take(limits, s, T0 + i * 1000);
      assert.equal(r.allowed, false);
      assert.equal(r.remaining, 0);
      assert.equal(r.retryAfterMs, Number.POSITIVE_INFINITY);
      s = r.state;
    }
  }
});

test('a clock going backwards mints no tokens', () => {
  const limits = { rateLimit: 1, burstLimit: 5 };
  let s = drain(limits, undefined, T0 + 10_000, 5).state; // empty at T0+10s
  // Back 5 s then forward to T0+10s: nothing was earned in between.
  let r = take(limits, s, T0 + 5_000);
  assert.equal(r.allowed, false);
  assert.equal(r.state.updatedMs, T0 + 10_000, 'keeps the later time');
  s = r.state;
  r = take(limits, s, T0 + 10_000);
  assert.equal(r.allowed, false);
  r = take(limits, s, T0 + 11_000);
  assert.equal(r.allowed, true);
  // A backwards take that succeeds (tokens were there) does not move time back either.
  const full = fullBucket(limits, T0 + 20_000);
  const back = take(limits, full, T0);
  assert.equal(back.allowed, true);
  assert.equal(back.state.updatedMs, T0 + 20_000);
  assert.equal(back.state.tokens, 4);
});

test('lowered limits clamp stored tokens', () => {
  const before = { rateLimit: 10, burstLimit: 100 };
  const after = { rateLimit: 10, burstLimit: 2 };
  const s = fullBucket(before, T0);
  assert.equal(drain(after, s, T0, 10).allowed, 2);
});

test('cost above 1 and cost above the burst', () => {
  const limits = { rateLimit: 2, burstLimit: 5 };
  let r = take(limits, undefined, T0, 4);
  assert.deepEqual([r.allowed, r.remaining], [true, 1]);
  r = take(limits, r.state, T0, 4);
  assert.deepEqual([r.allowed, r.retryAfterMs], [false, 1500]);
  r = take(limits, undefined, T0, 6);
  assert.deepEqual([r.allowed, r.retryAfterMs], [false, Number.POSITIVE_INFINITY]);
});

test('retryAfterMs is exact: waiting that long is enough, one ms less is not', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0.01, max: 1000, noNaN: true }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: 0, max: 10_000 }),
      (rateLimit, burstLimit, gap) => {
        const limits = { rateLimit, burstLimit };
        const empty = drain(limits, undefined, T0, burstLimit).state;
        const r = take(limits, empty, T0 + gap);
        if (r.allowed) return;
        assert.ok(Number.isFinite(r.retryAfterMs) && r.retryAfterMs >= 1);
        assert.equal(take(limits, r.state, T0 + gap + r.retryAfterMs).allowed, true);
        if (r.retryAfterMs > 1) {
          // ceil() may round a fraction of a ms up, so only a full ms earlier must fail.
          assert.equal(take(limits, r.state, T0 + gap + r.retryAfterMs - 1.000001).allowed, false);
        }
      },
    ),
  );
});

test('property: over any schedule, allowed <= burst + rate * elapsed (time may jump back)', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 100, noNaN: true }),
      fc.integer({ min: 0, max: 20 }),
      fc.array(fc.integer({ min: -2_000, max: 5_000 }), { minLength: 1, maxLength: 300 }),
      (rateLimit, burstLimit, steps) => {
        const limits = { rateLimit, burstLimit };
        let t = T0;
        // The bucket starts full at its first use (the first step may go back before T0), and refill is
        // credited from then on up to the latest time seen.
        const start = T0 + steps[0]!;
        let maxT = start;
        let s: BucketState | undefined;
        let allowed = 0;
        for (const step of steps) {
          t += step;
          if (t > maxT) maxT = t;
          const r = take(limits, s, t);
          s = r.state;
          if (r.allowed) allowed++;
          assert.ok(r.state.tokens >= 0 && r.state.tokens <= burstLimit);
          assert.ok(r.state.updatedMs <= maxT);
        }
        const bound = burstLimit + (rateLimit * (maxT - start)) / 1000;
        assert.ok(allowed <= Math.floor(bound + 1e-6), `${allowed} > ${bound}`);
      },
    ),
  );
});

test('property: a steady caller at the rate is never refused (integer-ms clock, as Date.now())', () => {
  fc.assert(
    // Burst >= 2 absorbs the up-to-1-ms rounding of arrivals (with burst 1 an early arrival is rightly refused).
    fc.property(fc.double({ min: 0.01, max: 1000, noNaN: true }), fc.integer({ min: 2, max: 10 }), (rate, burst) => {
      const limits = { rateLimit: rate, burstLimit: burst };
      const interval = 1000 / rate;
      let s: BucketState | undefined;
      for (let i = 0; i < 200; i++) {
        // The i-th request arrives at the first whole ms at or after i / rate seconds.
        const r = take(limits, s, T0 + Math.ceil(i * interval));
        assert.equal(r.allowed, true, `request ${i}`);
        s = r.state;
      }
    }),
  );
});

test('retryAfterMs and msUntilFull helpers', () => {
  const limits = { rateLimit: 4, burstLimit: 8 };
  assert.equal(retryAfterMs(limits, 1), 0);
  assert.equal(retryAfterMs(limits, 0.5), 125);
  assert.equal(msUntilFull(limits, 0), 2000);
  assert.equal(msUntilFull(limits, 8), 0);
  assert.equal(wholeTokens(2.9999999999), 3);
  assert.equal(wholeTokens(2.5), 2);
});
