// The contract every counters adapter must pass (memory.test.ts and redis.test.ts run it): token buckets
// over fake time, all-or-nothing decisions, exact quotas with window rollover, exactness under concurrency.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { take, type BucketState } from '../../src/security/token-bucket.ts';
import type { BucketDecision, BucketSpec, CounterStore, QuotaDecision } from '../../src/store/counters/ports.ts';

export interface CounterContractTarget {
  readonly name: string;
  /** Opens the store under test. */
  open(): Promise<CounterStore>;
  /** A second handle on the same counters (another connection for Redis; the same store for memory). */
  openPeer(): Promise<CounterStore>;
  /** Removes what the run stored. Called after both handles are closed. */
  cleanup?(): Promise<void>;
}

const HOUR = 3_600_000;
// Far from the epoch, with a fractional-free ms value, as Date.now() gives.
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);

let serial = 0;
/** A key no other test of this run uses. */
const uniq = (name: string) => `${name}:${++serial}`;

const bucket = (key: string, rateLimit: number, burstLimit: number): BucketSpec => ({ key, rateLimit, burstLimit });

export function counterContract(target: CounterContractTarget): void {
  describe(`counters contract: ${target.name}`, () => {
    let store: CounterStore;
    let peer: CounterStore;

    const takeB = async (specs: readonly BucketSpec[], now: number): Promise<BucketDecision> => store.takeBuckets(specs, now);
    const quota = async (key: string, limit: number, end: number, now: number): Promise<QuotaDecision> =>
      store.consumeQuota(key, limit, end, now);
    /** How many of `n` takes at `now` are allowed (sequential). */
    const allowedOf = async (specs: readonly BucketSpec[], now: number, n: number) => {
      let ok = 0;
      for (let i = 0; i < n; i++) if ((await takeB(specs, now)).allowed) ok++;
      return ok;
    };

    before(async () => {
      store = await target.open();
      peer = await target.openPeer();
    });

    after(async () => {
      if (peer !== undefined && peer !== store) await peer.close();
      if (store !== undefined) await store.close();
      await target.cleanup?.();
    });

    test('health is ok and kind is named', () => {
      assert.equal(store.health().ok, true);
      assert.ok(store.kind === 'memory' || store.kind === 'redis');
    });

    test('a bucket starts full: exactly burst requests pass at one instant', async () => {
      const b = [bucket(uniq('burst'), 1, 5)];
      const decisions: BucketDecision[] = [];
      for (let i = 0; i < 7; i++) decisions.push(await takeB(b, T0));
      assert.deepEqual(decisions.map((d) => d.allowed), [true, true, true, true, true, false, false]);
      assert.deepEqual(decisions.slice(0, 5).map((d) => d.remaining), [4, 3, 2, 1, 0]);
      assert.deepEqual(
        { ...decisions[5], degraded: decisions[5].degraded },
        { allowed: false, remaining: 0, retryAfterMs: 1000, deniedBy: 0, degraded: undefined },
      );
    });

    test('refill over fake time: continuous, capped at the burst', async () => {
      const b = [bucket(uniq('refill'), 2, 4)]; // one token per 500 ms
      assert.equal(await allowedOf(b, T0, 10), 4);
      let d = await takeB(b, T0 + 499);
      assert.equal(d.allowed, false);
      assert.equal(d.retryAfterMs, 1);
      d = await takeB(b, T0 + 500);
      assert.equal(d.allowed, true);
      assert.equal(await allowedOf(b, T0 + 500, 3), 0);
      assert.equal(await allowedOf(b, T0 + 1_750, 5), 2, '1250 ms = 2.5 tokens');
      assert.equal(await allowedOf(b, T0 + HOUR, 10), 4, 'never more than the burst');
    });

    test('fractional rate: 0.1/s is one request per 10 s', async () => {
      const b = [bucket(uniq('frac'), 0.1, 1)];
      assert.equal((await takeB(b, T0)).allowed, true);
      const d = await takeB(b, T0 + 9_000);
      assert.deepEqual([d.allowed, d.retryAfterMs], [false, 1_000]);
      assert.equal((await takeB(b, T0 + 10_000)).allowed, true);
      assert.equal((await takeB(b, T0 + 10_000)).allowed, false);
    });

    test('rate 0 is only the burst (never refills); burst 0 blocks everything', async () => {
      const once = [bucket(uniq('rate0'), 0, 2)];
      assert.equal(await allowedOf(once, T0, 5), 2);
      const later = await takeB(once, T0 + 30 * 24 * HOUR);
      assert.deepEqual([later.allowed, later.retryAfterMs], [false, Number.POSITIVE_INFINITY]);

      const blocked = [bucket(uniq('burst0'), 100, 0)];
      for (const now of [T0, T0 + 1_000, T0 + HOUR]) {
        const d = await takeB(blocked, now);
        assert.deepEqual([d.allowed, d.retryAfterMs, d.deniedBy], [false, Number.POSITIVE_INFINITY, 0]);
      }
    });

    test('a clock going backwards mints no tokens', async () => {
      const b = [bucket(uniq('back'), 1, 3)];
      assert.equal(await allowedOf(b, T0 + 10_000, 3), 3);
      assert.equal((await takeB(b, T0)).allowed, false, 'earlier time');
      assert.equal((await takeB(b, T0 + 10_000)).allowed, false, 'back at the drain time: nothing earned');
      assert.equal((await takeB(b, T0 + 11_000)).allowed, true);
    });

    test('all or nothing: a refusal by one bucket consumes no token from the others', async () => {
      const key = bucket(uniq('key'), 0, 5);
      const stage = bucket(uniq('stage'), 0, 2);
      const d1 = await takeB([key, stage], T0);
      assert.deepEqual([d1.allowed, d1.remaining], [true, 1], 'remaining is the least of all buckets');
      assert.equal((await takeB([key, stage], T0)).allowed, true);
      for (let i = 0; i < 3; i++) {
        const d = await takeB([key, stage], T0);
        assert.deepEqual([d.allowed, d.deniedBy], [false, 1]);
      }
      // The key bucket lost only the two tokens of the allowed requests.
      assert.equal(await allowedOf([key], T0, 10), 3);
    });

    test('the refusal names the bucket with the longest wait', async () => {
      const fast = bucket(uniq('fast'), 10, 1);
      const slow = bucket(uniq('slow'), 0.5, 1);
      const acct = bucket(uniq('acct'), 1000, 100);
      assert.equal((await takeB([fast, slow, acct], T0)).allowed, true);
      const d = await takeB([fast, slow, acct], T0);
      assert.deepEqual([d.allowed, d.deniedBy, d.retryAfterMs], [false, 1, 2_000]);
      const e = await takeB([fast, slow, acct], T0 + 1_000);
      assert.deepEqual([e.allowed, e.deniedBy, e.retryAfterMs], [false, 1, 1_000]);
    });

    test('lowered limits clamp what a bucket holds', async () => {
      const key = uniq('lowered');
      assert.equal((await takeB([bucket(key, 1, 100)], T0)).allowed, true); // 99 left
      assert.equal(await allowedOf([bucket(key, 1, 3)], T0, 10), 3);
    });

    test('no buckets: allowed', async () => {
      const d = await takeB([], T0);
      assert.equal(d.allowed, true);
    });

    test('matches the pure token-bucket model over a random schedule', async () => {
      const schedules = fc.sample(
        fc.record({
          rate: fc.constantFrom(0, 0.25, 1, 3, 7.5, 50),
          burst: fc.integer({ min: 0, max: 6 }),
          steps: fc.array(fc.integer({ min: -300, max: 1_500 }), { minLength: 20, maxLength: 60 }),
        }),
        { numRuns: 8, seed: 20_260_601 },
      );
      for (const { rate, burst, steps } of schedules) {
        const spec = bucket(uniq('model'), rate, burst);
        let model: BucketState | undefined;
        let t = T0;
        for (const [i, step] of steps.entries()) {
          t += step;
          const expected = take(spec, model, t);
          if (expected.allowed) model = expected.state;
          const got = await takeB([spec], t);
          const where = `rate ${rate} burst ${burst} step ${i}`;
          assert.equal(got.allowed, expected.allowed, where);
          assert.equal(got.remaining, expected.remaining, where);
          assert.equal(got.retryAfterMs, expected.retryAfterMs, where);
        }
      }
    });

    test('quota: exactly limit requests per window', async () => {
      const key = uniq('quota');
      const end = T0 + HOUR;
      const seen: QuotaDecision[] = [];
      for (let i = 0; i < 5; i++) seen.push(await quota(key, 3, end, T0 + i));
      assert.deepEqual(
        seen.map((d) => [d.allowed, d.used, d.remaining]),
        [[true, 1, 2], [true, 2, 1], [true, 3, 0], [false, 3, 0], [false, 3, 0]],
      );
      assert.equal(await store.getQuota(key, T0 + 10), 3);
    });

    test('quota: a limit of 0 blocks', async () => {
      const d = await quota(uniq('quota0'), 0, T0 + HOUR, T0);
      assert.deepEqual([d.allowed, d.used, d.remaining], [false, 0, 0]);
    });

    test('quota window rollover: a new window starts at 0; a lagging caller counts into the newer one', async () => {
      const key = uniq('rollover');
      const end1 = T0 + HOUR;
      const end2 = end1 + 24 * HOUR;
      assert.equal((await quota(key, 2, end1, T0)).allowed, true);
      assert.equal((await quota(key, 2, end1, T0 + 1)).allowed, true);
      assert.equal((await quota(key, 2, end1, T0 + 2)).allowed, false);
      // The next window.
      const d = await quota(key, 2, end2, end1 + 5);
      assert.deepEqual([d.allowed, d.used], [true, 1]);
      assert.equal(await store.getQuota(key, end1 + 5), 1);
      // A node still computing the old window end counts into the newer window, not a fresh old one.
      const lag = await quota(key, 2, end1, end1 - 10);
      assert.deepEqual([lag.allowed, lag.used], [true, 2]);
      assert.equal((await quota(key, 2, end2, end1 + 6)).allowed, false);
      // After the window ended, nothing is counted.
      assert.equal(await store.getQuota(key, end2 + 1), 0);
      assert.equal((await quota(key, 2, end2 + HOUR, end2 + 1)).used, 1);
    });

    test('setQuota sets the count for a window (AWS "replace /remaining"), 0 resets', async () => {
      const key = uniq('setq');
      const end = T0 + HOUR;
      for (let i = 0; i < 4; i++) await quota(key, 4, end, T0);
      assert.equal((await quota(key, 4, end, T0)).allowed, false);
      await store.setQuota(key, 1, end, T0); // remaining 3
      assert.equal(await store.getQuota(key, T0), 1);
      const d = await quota(key, 4, end, T0);
      assert.deepEqual([d.allowed, d.used, d.remaining], [true, 2, 2]);
      await store.setQuota(key, 0, end, T0);
      assert.equal(await store.getQuota(key, T0), 0);
      assert.equal(await store.getQuota(uniq('never'), T0), 0);
    });

    test('exact under concurrency: 1,000 concurrent quota calls from two handles, limit 500 -> exactly 500', async () => {
      const key = uniq('race-quota');
      const end = T0 + HOUR;
      const calls = Array.from({ length: 1_000 }, (_, i) =>
        (i % 2 === 0 ? store : peer).consumeQuota(key, 500, end, T0 + (i % 7)),
      );
      const results = await Promise.all(calls);
      assert.equal(results.filter((r) => r.degraded).length, 0, 'no decision came from the fail mode');
      assert.equal(results.filter((r) => r.allowed).length, 500);
      assert.deepEqual(
        results.filter((r) => r.allowed).map((r) => r.used).sort((a, b) => a - b),
        Array.from({ length: 500 }, (_, i) => i + 1),
        'every count from 1 to 500 handed out once',
      );
      assert.equal(await peer.getQuota(key, T0), 500);
    });

    test('exact under concurrency: rate 0 burst 300, 1,000 concurrent takes from two handles -> exactly 300', async () => {
      const b = [bucket(uniq('race-bucket'), 0, 300)];
      const results = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? store : peer).takeBuckets(b, T0 + (i % 5))),
      );
      assert.equal(results.filter((r) => r.degraded).length, 0, 'no decision came from the fail mode');
      assert.equal(results.filter((r) => r.allowed).length, 300);
    });

    test('all or nothing under concurrency: key burst 300 + shared burst 200 -> 200 pass, key keeps 100', async () => {
      const key = bucket(uniq('race-key'), 0, 300);
      const shared = bucket(uniq('race-shared'), 0, 200);
      const results = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? store : peer).takeBuckets([key, shared], T0)),
      );
      assert.equal(results.filter((r) => r.allowed).length, 200);
      assert.ok(results.every((r) => r.allowed || r.deniedBy === 1));
      assert.equal(await allowedOf([key], T0, 150), 100);
    });

    test('buckets + quota in one call: a bucket refusal asks no quota; a quota refusal keeps the tokens taken', async () => {
      const b = bucket(uniq('combo-b'), 0, 3);
      const q = { key: uniq('combo-q'), limit: 2, windowEndMs: T0 + HOUR };
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await store.takeBucketsAndQuota([b], q, T0));
      assert.deepEqual(
        seen.map((d) => [d.buckets.allowed, d.buckets.remaining, d.quota?.allowed, d.quota?.used, d.quota?.remaining]),
        [[true, 2, true, 1, 1], [true, 1, true, 2, 0], [true, 0, false, 2, 0], [false, 0, undefined, undefined, undefined]],
      );
      assert.equal(seen[3].buckets.deniedBy, 0);
      assert.equal(seen[3].buckets.retryAfterMs, Number.POSITIVE_INFINITY);
      assert.equal(await store.getQuota(q.key, T0), 2);
      // The same counters as the separate calls: the next window starts over.
      const next = await store.takeBucketsAndQuota([bucket(uniq('combo-b2'), 0, 1)], { ...q, windowEndMs: T0 + 2 * HOUR }, T0 + HOUR);
      assert.deepEqual([next.quota?.allowed, next.quota?.used], [true, 1]);
      assert.equal((await quota(q.key, 2, T0 + 2 * HOUR, T0 + HOUR)).used, 2);
    });

    test('exact under concurrency, one call per request: quota 500, 1,000 concurrent from two handles -> exactly 500', async () => {
      const b = bucket(uniq('race-combo-b'), 0, 10_000);
      const q = { key: uniq('race-combo-q'), limit: 500, windowEndMs: T0 + HOUR };
      const results = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? store : peer).takeBucketsAndQuota([b], q, T0)),
      );
      assert.equal(results.filter((r) => r.buckets.degraded || r.quota?.degraded).length, 0);
      assert.equal(results.filter((r) => r.quota?.allowed).length, 500);
      assert.equal(await peer.getQuota(q.key, T0), 500);
    });
  });
}
