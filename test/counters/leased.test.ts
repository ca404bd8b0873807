// The approximate mode (leased-counters.ts) against the real Redis: its error bound as docs/api-keys.md states
// it. Limits hold exactly across nodes (never more than burst + rate x t, never more than the quota); a node
// refuses early by at most what the other nodes hold unspent, (N - 1) x (lease - 1) per bucket; what is unspent
// goes back at the reconcile and is then admitted; and most decisions need no Redis call at all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { openRedisCounters } from '../../src/store/counters/redis-counters.ts';
import { LeasedCounters, leaseSize } from '../../src/store/counters/leased-counters.ts';
import { openCounters } from '../../src/store/counters/open-counters.ts';
import type { BucketSpec, CounterStore } from '../../src/store/counters/ports.ts';
import { startOwnRedis } from '../helpers/redis-server.ts';

const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `pc-test-leased:${process.pid}:${randomBytes(4).toString('hex')}:`;
const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const HOUR = 3_600_000;

let serial = 0;
const uniq = (name: string) => `${name}:${++serial}`;
const bucket = (key: string, rateLimit: number, burstLimit: number): BucketSpec => ({ key, rateLimit, burstLimit });

async function deleteKeys(prefix: string): Promise<void> {
  const admin = new Redis(REDIS_URL);
  try {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    admin.disconnect();
  }
}

/** A node in approximate mode: its own Redis connection, reconciled only when the test says so. */
async function node(maxLease = 100): Promise<LeasedCounters> {
  const redis = await openRedisCounters(REDIS_URL, { prefix: PREFIX, commandTimeoutMs: 2_000 });
  return new LeasedCounters(redis, { maxLease, reconcileIntervalMs: 0 });
}

/** How many of `n` decisions pass, sent concurrently and spread round-robin over the nodes. */
async function concurrentTakes(nodes: CounterStore[], specs: readonly BucketSpec[], now: number, n: number): Promise<number> {
  const all = await Promise.all(Array.from({ length: n }, (_, i) => nodes[i % nodes.length].takeBuckets(specs, now)));
  return all.filter((d) => d.allowed).length;
}

describe('approximate counters (leases from Redis, reconciled at an interval)', () => {
  let a: LeasedCounters;
  let b: LeasedCounters;
  before(async () => {
    a = await node();
    b = await node();
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await deleteKeys(PREFIX);
  });

  test('lease size: a tenth of the burst or limit, at least 1, at most the maximum', () => {
    assert.equal(leaseSize(5, 0.1, 100), 1);
    assert.equal(leaseSize(300, 0.1, 100), 30);
    assert.equal(leaseSize(5_000, 0.1, 100), 100);
    assert.equal(leaseSize(0, 0.1, 100), 1);
  });

  test('one node alone is exact: burst 30, 40 takes -> 30 pass, in about one Redis call per lease', async () => {
    const spec = bucket(uniq('alone'), 0, 30);
    const calls0 = a.stats().leaseCalls;
    let ok = 0;
    let sync = 0;
    for (let i = 0; i < 40; i++) {
      const d = a.takeBuckets([spec], T0);
      if (!(d instanceof Promise)) sync++;
      if ((await d).allowed) ok++;
    }
    assert.equal(ok, 30);
    // Lease of 3 (a tenth of 30): 10 leasing calls for 30 tokens, then one refused call per further take.
    assert.equal(a.stats().leaseCalls - calls0, 10 + 10);
    assert.equal(sync, 20, 'two of every three admitted decisions are answered locally, synchronously');
  });

  test('concurrent decisions short of the same bucket wait for one lease call instead of each asking Redis', async () => {
    const spec = bucket(uniq('herd'), 0, 10_000); // lease of 100
    const calls0 = a.stats().leaseCalls;
    const ok = await concurrentTakes([a], [spec], T0, 1_000);
    assert.equal(ok, 1_000);
    assert.equal(a.stats().leaseCalls - calls0, 10);
  });

  test('a throttled burst is refused together: the waiters of a refused lease call do not ask again', async () => {
    const spec = bucket(uniq('burst'), 0, 100); // lease of 10
    const calls0 = a.stats().leaseCalls;
    assert.equal(await concurrentTakes([a], [spec], T0, 1_000), 100);
    assert.equal(a.stats().leaseCalls - calls0, 11, '10 leases of 10, then one refused call for the 900 others');
    const key = uniq('burst-quota');
    const calls1 = a.stats().leaseCalls;
    const quotas = await Promise.all(Array.from({ length: 1_000 }, () => a.consumeQuota(key, 100, T0 + HOUR, T0)));
    assert.equal(quotas.filter((d) => d.allowed).length, 100);
    assert.ok(quotas.filter((d) => !d.allowed).every((d) => d.remaining === 0 && d.used === 100));
    assert.equal(a.stats().leaseCalls - calls1, 11);
  });

  test('a waiter is refused only by a refusal of its own quota, not by another key\'s', async () => {
    const account = bucket(uniq('shared-account'), 0, 10_000);
    const end = T0 + HOUR;
    const [other, mine] = await Promise.all([
      a.takeBucketsAndQuota([account], { key: uniq('exhausted'), limit: 0, windowEndMs: end }, T0),
      a.takeBucketsAndQuota([account], { key: uniq('fresh'), limit: 100, windowEndMs: end }, T0),
    ]);
    assert.equal(other.quota?.allowed, false, 'a quota of 0');
    assert.equal(mine.buckets.allowed, true);
    assert.equal(mine.quota?.allowed, true, 'waited for the same account lease, then asked its own quota');
  });

  test('a refusal names the bucket and the wait, as the exact mode', async () => {
    const key = bucket(uniq('key'), 1, 1);
    const stage = bucket(uniq('stage'), 2, 1);
    assert.equal((await a.takeBuckets([key, stage], T0)).allowed, true);
    const d = await a.takeBuckets([key, stage], T0);
    assert.equal(d.allowed, false);
    assert.equal(d.deniedBy, 0, 'the key bucket waits 1 s, the stage bucket 0.5 s');
    assert.equal(d.retryAfterMs, 1_000);
  });

  test('all or nothing: key burst 300 + shared burst 200 on two nodes -> 200 pass, the key keeps its 100', async () => {
    const key = bucket(uniq('key'), 0, 300);
    const shared = bucket(uniq('shared'), 0, 200);
    const ok = await concurrentTakes([a, b], [key, shared], T0, 1_000);
    // Upper bound exact; lower bound: the other node holds at most lease - 1 = 19 unspent shared tokens.
    assert.ok(ok <= 200 && ok >= 200 - 19, `admitted ${ok}`);
    await a.reconcile(T0);
    await b.reconcile(T0);
    const more = await concurrentTakes([a, b], [key, shared], T0, 1_000);
    assert.equal(ok + more, 200, 'after the reconcile every token of the shared bucket is spent, none twice');
    // The key bucket lost exactly one token per admitted request: 100 left for a request without the shared one.
    const rest = await concurrentTakes([a, b], [key], T0, 1_000);
    assert.equal(rest, 100);
  });

  test('never more than burst + rate x t across two nodes; at most (N - 1) x (lease - 1) short while both are saturated', async () => {
    const rate = 50;
    const burst = 100;
    const spec = bucket(uniq('rated'), rate, burst);
    const lease = leaseSize(burst, 0.1, 100); // 10
    let admitted = 0;
    let now = T0;
    // 40 s of fake time in 100 ms steps, 20 decisions per step on each node (400/s against 50/s): saturated.
    for (let step = 0; step <= 400; step++) {
      admitted += await concurrentTakes([a, b], [spec], now, 40);
      const elapsed = (now - T0) / 1_000;
      const exact = burst + (rate * (now - T0)) / 1_000; // what the exact mode admits at most
      assert.ok(admitted <= exact, `at ${elapsed}s admitted ${admitted} > ${exact}`);
      const sent = 40 * (step + 1);
      const floor = Math.min(sent, exact - (2 - 1) * (lease - 1) - 1);
      assert.ok(admitted >= floor, `at ${elapsed}s admitted only ${admitted} (floor ${floor})`);
      if (step % 10 === 9) {
        // The reconcile interval: 1 s.
        await a.reconcile(now);
        await b.reconcile(now);
      }
      now += 100;
    }
  });

  test('quota 500 on two nodes, 1,000 concurrent: never more than 500; the rest arrives after the reconcile', async () => {
    const key = uniq('quota');
    const end = T0 + HOUR;
    const lease = leaseSize(500, 0.1, 100); // 50
    const decide = (i: number) => (i % 2 === 0 ? a : b).consumeQuota(key, 500, end, T0);
    const first = (await Promise.all(Array.from({ length: 1_000 }, (_, i) => decide(i)))).filter((d) => d.allowed).length;
    assert.ok(first <= 500 && first >= 500 - (lease - 1), `admitted ${first}`);
    await a.reconcile(T0);
    await b.reconcile(T0);
    const second = (await Promise.all(Array.from({ length: 1_000 }, (_, i) => decide(i)))).filter((d) => d.allowed).length;
    assert.equal(first + second, 500);
    await a.reconcile(T0);
    await b.reconcile(T0);
    assert.equal(await a.getQuota(key, T0), 500, 'Redis holds the exact count once nothing is unspent');
  });

  test('buckets and quota in one lease call; the quota counts are leased too', async () => {
    const spec = bucket(uniq('plan'), 1_000, 1_000);
    const key = uniq('plan-quota');
    const calls0 = a.stats().leaseCalls;
    for (let i = 0; i < 1_000; i++) {
      const c = await a.takeBucketsAndQuota([spec], { key, limit: 1_000_000, windowEndMs: T0 + HOUR }, T0);
      assert.equal(c.buckets.allowed, true);
      assert.equal(c.quota?.allowed, true);
    }
    const calls = a.stats().leaseCalls - calls0;
    assert.ok(calls <= 12, `1,000 decisions took ${calls} Redis calls (leases of 100)`);
    // Exact count once this node gives its unspent counts back.
    assert.equal(await a.getQuota(key, T0), 1_000, 'unspent counts of this node are not counted as used');
    await a.reconcile(T0);
    const admin = new Redis(REDIS_URL);
    try {
      assert.equal(await admin.hget(`${PREFIX}q:${key}`, 'n'), '1000');
    } finally {
      admin.disconnect();
    }
  });

  test('a quota window that ends voids its unspent lease; setQuota drops this node\'s unspent counts', async () => {
    const key = uniq('window');
    const end1 = T0 + HOUR;
    const end2 = end1 + HOUR;
    assert.equal((await a.consumeQuota(key, 100, end1, T0)).allowed, true); // leases 10
    const next = await a.consumeQuota(key, 100, end2, end1);
    assert.equal(next.allowed, true);
    assert.equal(next.used, 1, 'the new window starts at 0');
    await a.setQuota(key, 100, end2, end1 + 1);
    assert.equal((await a.consumeQuota(key, 100, end2, end1 + 2)).allowed, false, 'no unspent count of the old total survives');
  });

  test('lowered limits clamp what a node holds', async () => {
    const wide = bucket(uniq('lowered'), 0, 1_000);
    assert.equal((await a.takeBuckets([wide], T0)).allowed, true); // holds 99
    const narrow = { ...wide, burstLimit: 5 };
    let ok = 0;
    for (let i = 0; i < 20; i++) if ((await a.takeBuckets([narrow], T0)).allowed) ok++;
    assert.equal(ok, 5, 'the lease is cut to the new burst');
  });

  test('openCounters: approximate mode wraps Redis; refused for in-process counters', async () => {
    const c = await openCounters(REDIS_URL, { prefix: PREFIX, mode: 'approximate', reconcileIntervalMs: 0 });
    assert.ok(c instanceof LeasedCounters);
    assert.equal(c.kind, 'redis');
    await c.close();
    await assert.rejects(openCounters('memory', { mode: 'approximate' }), /approximate mode .* needs Redis counters/);
  });
});

describe('approximate counters while Redis is down (own redis-server)', () => {
  test('leases already held keep serving; then the fail mode answers; a failed give-back loses tokens, never adds', async () => {
    const own = await startOwnRedis();
    const redis = await openRedisCounters(own.url, { prefix: PREFIX, commandTimeoutMs: 500, failMode: 'closed', reconnectMaxDelayMs: 100 });
    const c = new LeasedCounters(redis, { reconcileIntervalMs: 0 });
    try {
      const spec = bucket('outage', 0, 100); // lease of 10
      assert.equal((await c.takeBuckets([spec], T0)).allowed, true);
      await own.stop();
      let ok = 0;
      for (let i = 0; i < 9; i++) {
        const d = c.takeBuckets([spec], T0);
        assert.ok(!(d instanceof Promise), 'answered from the lease, without Redis');
        if ((await d).allowed) ok++;
      }
      assert.equal(ok, 9);
      const refused = await c.takeBuckets([spec], T0);
      assert.equal(refused.allowed, false);
      assert.equal(refused.degraded, true, 'fail closed, marked degraded');
      assert.equal(c.health().ok, false);
      await c.reconcile(T0); // nothing unspent: nothing lost
      assert.equal(c.stats().lost, 0);
    } finally {
      await c.close();
      await own.stop();
    }
  });
});
