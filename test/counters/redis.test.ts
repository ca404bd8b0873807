// Runs the counters contract against Redis (127.0.0.1:6379, or PORTCULLIS_TEST_REDIS_URL), then kills and
// restarts a redis-server of its own to check the fail mode, health reporting and recovery.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createFakeClock } from '../../src/core/clock.ts';
import { openRedisCounters, redactRedisUrl, USAGE_KEEP_MS, type RedisCounters } from '../../src/store/counters/redis-counters.ts';
import { usageRecordId } from '../../src/store/counters/ports.ts';
import { openCounters } from '../../src/store/counters/open-counters.ts';
import { createMemoryCounters } from '../../src/store/counters/memory-counters.ts';
import fc from 'fast-check';
import { counterContract } from './counter-contract.ts';

const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `pc-test:${process.pid}:${randomBytes(4).toString('hex')}:`;

/** Deletes every key of this run (the prefix is unique to it). */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  admin.on('error', () => {}); // connect() rejects with it
  try {
    await admin.connect();
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
}

// Unreachable Redis fails here, loudly: open() rejects with "cannot reach Redis at ...".
counterContract({
  name: `redis (${redactRedisUrl(REDIS_URL)})`,
  open: () => openRedisCounters(REDIS_URL, { prefix: PREFIX, commandTimeoutMs: 2_000 }),
  openPeer: () => openRedisCounters(REDIS_URL, { prefix: PREFIX, commandTimeoutMs: 2_000 }),
  cleanup: () => deleteKeys(REDIS_URL, PREFIX),
});

describe('redis adapter specifics', () => {
  let counters: RedisCounters;
  const prefix = `${PREFIX}specific:`;
  before(async () => {
    counters = await openRedisCounters(REDIS_URL, { prefix });
  });
  after(async () => {
    await counters?.close();
    await deleteKeys(REDIS_URL, prefix);
  });

  test('keys carry the prefix; buckets expire once full again; rate-0 buckets persist; quotas expire after the window', async () => {
    const admin = new Redis(REDIS_URL);
    try {
      const now = 1_000_000; // any epoch: expiry is relative
      await counters.takeBuckets([{ key: 'r', rateLimit: 2, burstLimit: 10 }, { key: 'z', rateLimit: 0, burstLimit: 3 }], now);
      await counters.consumeQuota('k', 5, now + 30_000, now);
      const keys = (await admin.keys(`${prefix}*`)).sort();
      assert.deepEqual(keys, [`${prefix}b2:r`, `${prefix}b2:z`, `${prefix}q:k`]);
      const ttl = await admin.pttl(`${prefix}b2:r`);
      assert.ok(ttl > 1_000 && ttl <= 1_500, `refill 1 token at 2/s = 500 ms + 1 s margin, got ${ttl}`);
      assert.equal(await admin.pttl(`${prefix}b2:z`), -1);
      const qttl = await admin.pttl(`${prefix}q:k`);
      assert.ok(qttl > 80_000 && qttl <= 90_000, `window end + 60 s grace, got ${qttl}`);
    } finally {
      admin.disconnect();
    }
  });

  test('decisions asked in one turn of the event loop leave in one script call, each decided exactly', async () => {
    const calls0 = counters.decisionCalls;
    const now = 2_000_000;
    const spec = { key: 'batched', rateLimit: 0, burstLimit: 60 };
    const decisions = await Promise.all([
      ...Array.from({ length: 100 }, () => counters.takeBuckets([spec], now)),
      ...Array.from({ length: 10 }, () => counters.consumeQuota('batched-q', 4, now + 60_000, now)),
      counters.takeBucketsAndQuota([spec], { key: 'batched-q', limit: 4, windowEndMs: now + 60_000 }, now),
    ]);
    assert.equal(counters.decisionCalls - calls0, 1, '111 decisions, one round trip');
    const takes = decisions.slice(0, 100) as Array<{ allowed: boolean; remaining: number }>;
    assert.equal(takes.filter((d) => d.allowed).length, 60);
    assert.deepEqual(takes.slice(0, 3).map((d) => d.remaining), [59, 58, 57], 'decided in the order asked');
    const quotas = decisions.slice(100, 110) as Array<{ allowed: boolean; used: number }>;
    assert.deepEqual(quotas.map((q) => q.allowed), [true, true, true, true, false, false, false, false, false, false]);
    const combined = decisions[110] as { buckets: { allowed: boolean }; quota?: unknown };
    assert.equal(combined.buckets.allowed, false, 'the bucket is empty by then: the quota is not asked');
    assert.equal(combined.quota, undefined);
  });

  test('a bucket is stored as two exact little-endian doubles (tokens, updatedMs) under b2:', async () => {
    const admin = new Redis(REDIS_URL);
    try {
      const now = 3_000_000;
      const spec = { key: 'exact', rateLimit: 1 / 3, burstLimit: 10 };
      await counters.takeBuckets([spec], now);
      await counters.takeBuckets([spec], now + 1_000);
      const raw = await admin.getBuffer(`${prefix}b2:exact`);
      assert.equal(raw?.length, 16);
      // The same arithmetic in JS: 10 - 1, refilled by a third of a token, minus one. A decimal round trip
      // ("%.17g" into a hash, as the first format did) gave the same value; a float32 or a rounded
      // string would not.
      assert.equal(raw!.readDoubleLE(0), Math.min(10, 9 + (1_000 * (1 / 3)) / 1_000) - 1);
      assert.equal(raw!.readDoubleLE(8), now + 1_000);
    } finally {
      admin.disconnect();
    }
  });

  test('one script call reads and writes each bucket and quota once, however many of its decisions use them', async () => {
    const base = new Redis(REDIS_URL);
    const monitor = await base.monitor();
    const seen: string[] = [];
    const mine = (key: unknown) => typeof key === 'string' && key.startsWith(prefix) && key.includes(':once:');
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // Commands the script runs (source "lua") on this test's keys only: other test files share this Redis.
      if (source === 'lua' && mine(args[1])) seen.push(args[0].toLowerCase());
    });
    try {
      // MONITOR needs a moment to be attached before the commands it should see.
      await new Promise((r) => setTimeout(r, 100));
      const now = 4_000_000;
      const specs = [{ key: 'once:k', rateLimit: 100, burstLimit: 1_000 }, { key: 'once:acct', rateLimit: 100, burstLimit: 1_000 }];
      const calls0 = counters.decisionCalls;
      const all = await Promise.all(
        Array.from({ length: 40 }, () => counters.takeBucketsAndQuota(specs, { key: 'once:q', limit: 1_000, windowEndMs: now + 60_000 }, now)),
      );
      assert.equal(counters.decisionCalls - calls0, 1);
      assert.deepEqual(all.map((d) => d.quota?.used), Array.from({ length: 40 }, (_, i) => i + 1));
      await waitFor(async () => seen.length >= 7, 5_000, 'MONITOR to report the script commands');
      await new Promise((r) => setTimeout(r, 200)); // anything more would arrive now
      const counts: Record<string, number> = {};
      for (const c of seen) counts[c] = (counts[c] ?? 0) + 1;
      // Two buckets read and written once each; the quota read once, started (HSET + PEXPIRE) once.
      assert.deepEqual(counts, { get: 2, hmget: 1, set: 2, hset: 1, pexpire: 1 });
    } finally {
      monitor.disconnect();
      base.disconnect();
    }
  });

  test('decisions batched in one call with shared and overlapping keys decide exactly as one by one (memory adapter)', async () => {
    // Random batches over a few buckets and quotas, each key shared by many decisions at different positions:
    // the batch names every key once and the script keeps their state across its decisions, so any slip in
    // the key positions or the carried state shows up as a different answer than the in-process adapter's.
    const runs = fc.sample(
      fc.array(
        fc.record({
          kind: fc.constantFrom('take', 'quota', 'both'),
          buckets: fc.shuffledSubarray(['a', 'b', 'c', 'd'], { minLength: 1, maxLength: 3 }),
          quota: fc.constantFrom('q1', 'q2'),
          dt: fc.integer({ min: 0, max: 400 }),
          tally: fc.constantFrom(undefined, 'u1', 'u2'),
        }),
        { minLength: 20, maxLength: 80 },
      ),
      { numRuns: 6, seed: 20_261_125 },
    );
    const limits: Record<string, { rateLimit: number; burstLimit: number }> = {
      a: { rateLimit: 0, burstLimit: 7 }, b: { rateLimit: 2.5, burstLimit: 4 }, c: { rateLimit: 10, burstLimit: 12 }, d: { rateLimit: 0.5, burstLimit: 3 },
    };
    for (const [r, run] of runs.entries()) {
      const memory = createMemoryCounters();
      const tag = `prop${r}:`;
      let now = 5_000_000;
      const asked: Array<Promise<unknown>> = [];
      const expected: unknown[] = [];
      // Some decisions also count a usage record: exactly those that the in-process adapter allows.
      const usage: Record<string, number> = {};
      const count = (tally: string | undefined, allowed: boolean | undefined) => {
        if (tally && allowed) usage[`p${r}\n${tally}`] = (usage[`p${r}\n${tally}`] ?? 0) + 1;
      };
      for (const step of run) {
        now += step.dt;
        const specs = step.buckets.map((b) => ({ key: tag + b, ...limits[b] }));
        const q = { key: tag + step.quota, limit: 9, windowEndMs: 5_060_000 };
        const tally = step.tally ? usageRecordId(`p${r}`, step.tally) : undefined;
        if (step.kind === 'take') {
          const d = memory.takeBuckets(specs, now);
          count(step.tally, d.allowed);
          expected.push(d);
          asked.push(counters.takeBuckets(specs, now, tally) as Promise<unknown>);
        } else if (step.kind === 'quota') {
          const d = memory.consumeQuota(q.key, q.limit, q.windowEndMs, now);
          count(step.tally, d.allowed);
          expected.push(d);
          asked.push(counters.consumeQuota(q.key, q.limit, q.windowEndMs, now, tally) as Promise<unknown>);
        } else {
          const d = memory.takeBucketsAndQuota(specs, q, now);
          count(step.tally, d.quota?.allowed);
          expected.push(d);
          asked.push(counters.takeBucketsAndQuota(specs, q, now, tally) as Promise<unknown>);
        }
      }
      const calls0 = counters.decisionCalls;
      const got = await Promise.all(asked);
      assert.ok(counters.decisionCalls - calls0 <= 1, 'asked in one turn: one script call');
      assert.deepEqual(got, expected, `run ${r}`);
      const admin = new Redis(REDIS_URL);
      try {
        const stored = await admin.hgetall(`${prefix}u:1970-01-01`);
        const mine = Object.fromEntries(Object.entries(stored).filter(([f]) => f.startsWith(`p${r}\n`)).map(([f, v]) => [f, Number(v)]));
        assert.deepEqual(mine, usage, `usage of run ${r}`);
      } finally {
        admin.disconnect();
      }
    }
  });

  test('usage: a decision counts its tally in the same script call when it allows, never when it refuses; the ledger', async () => {
    // A prefix of its own: the usage set holds only this test's records.
    const p = `${prefix}usage:`;
    const admin = new Redis(REDIS_URL);
    const node = await openRedisCounters(REDIS_URL, { prefix: p });
    const peer = await openRedisCounters(REDIS_URL, { prefix: p });
    try {
      const now = Date.parse('2026-11-10T12:00:00Z');
      const hash = `${p}u:2026-11-10`;
      const k1 = usageRecordId('gold', 'k1');
      const k2 = usageRecordId('gold', 'k2');
      const spec = { key: 'usage-b', rateLimit: 0, burstLimit: 2 };
      const calls0 = node.decisionCalls;
      const decisions = await Promise.all([
        // k1: two pass the bucket, the third is refused by it; k2: one of two passes its quota of 1; a take with no
        // bucket still counts.
        ...Array.from({ length: 3 }, () => node.takeBucketsAndQuota([spec], { key: 'usage-q1', limit: 10, windowEndMs: now + 60_000 }, now, k1)),
        ...Array.from({ length: 2 }, () => node.consumeQuota('usage-q2', 1, now + 60_000, now, k2)),
        node.takeBuckets([], now, k2),
        node.takeBuckets([spec], now), // refused, no tally
      ]);
      assert.equal(node.decisionCalls - calls0, 1, 'the counts travel with the decisions');
      assert.deepEqual(decisions.map((d) => ('buckets' in d ? d.quota?.allowed === true : d.allowed)), [true, true, false, true, false, true, false]);
      assert.deepEqual(await admin.hgetall(hash), { 'gold\nk1': '2', 'gold\nk2': '2' });
      assert.deepEqual((await admin.smembers(`${p}ud`)).sort(), [`${hash}\ngold\nk1`, `${hash}\ngold\nk2`]);

      // The ledger: changed records with their whole counts, to one node at a time.
      const byKey = (a: readonly { keyId: string }[]) => [...a].sort((x, y) => x.keyId.localeCompare(y.keyId));
      const first = await node.usage.changed(100);
      assert.deepEqual(byKey(first!), [
        { plan: 'gold', keyId: 'k1', day: '2026-11-10', used: 2 },
        { plan: 'gold', keyId: 'k2', day: '2026-11-10', used: 2 },
      ]);
      assert.equal(await peer.usage.changed(100), undefined, 'the other node waits while this one holds the copying lease');
      // k1 is counted again before the copy is confirmed: it stays changed, k2 does not.
      await node.takeBucketsAndQuota([], { key: 'usage-q1', limit: 10, windowEndMs: now + 60_000 }, now, k1);
      await node.usage.confirm(first!);
      assert.deepEqual(await node.usage.changed(100), [{ plan: 'gold', keyId: 'k1', day: '2026-11-10', used: 3 }]);
      const ttl = await admin.pttl(hash);
      assert.ok(ttl > USAGE_KEEP_MS - 60_000 && ttl <= USAGE_KEEP_MS, `a day's hash expires after its first copy, got ${ttl}`);
      // Counts made without a decision (fail-open, report-only refusals, approximate mode) join the ledger.
      await node.usage.add([{ plan: 'silver', keyId: 'k3', day: '2026-11-09', used: 4 }, { plan: 'gold', keyId: 'k1', day: '2026-11-10', used: 2 }]);
      const next = await node.usage.changed(100);
      assert.deepEqual(byKey(next!), [
        { plan: 'gold', keyId: 'k1', day: '2026-11-10', used: 5 },
        { plan: 'silver', keyId: 'k3', day: '2026-11-09', used: 4 },
      ]);
      await node.usage.confirm(next!);
      assert.deepEqual(await node.usage.changed(100), []);
      assert.deepEqual(await admin.smembers(`${p}ud`), []);
    } finally {
      await peer.close();
      await node.close();
      admin.disconnect();
    }
  });

  test('openCounters picks Redis for redis:// URLs', async () => {
    const c = await openCounters(REDIS_URL, { prefix });
    assert.equal(c.kind, 'redis');
    await c.close();
  });

  test('an unreachable Redis fails opening with a clear message and no credentials', async () => {
    const port = await freePort();
    await assert.rejects(
      openRedisCounters(`redis://user:hunter2@127.0.0.1:${port}`, { connectTimeoutMs: 500 }),
      (err: Error) => err.message.includes(`cannot reach Redis at redis://127.0.0.1:${port}`) && !err.message.includes('hunter2'),
    );
  });
});

describe('redis outage: fail mode, health, recovery (own redis-server)', () => {
  let port = 0;
  let server: ChildProcess | undefined;
  const children = new Set<ChildProcess>();
  // Never leave a redis-server behind, even when the run is cut short.
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });

  /** Starts redis-server on `port`; resolves once THIS child (checked by pid) answers PING. */
  const startServer = async (): Promise<ChildProcess> => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    child.on('error', () => {}); // seen as exitCode below
    try {
      await waitFor(async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode})`);
        const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        probe.on('error', () => {});
        try {
          await probe.connect();
          // Another run's server may hold the port we were given: only our own child counts.
          const info = await probe.info('server');
          return new RegExp(`^process_id:${child.pid}\\r?$`, 'm').test(info);
        } catch {
          return false;
        } finally {
          probe.disconnect();
        }
      }, 10_000, `redis-server to accept connections on port ${port}`);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return child;
  };

  const stopServer = async () => {
    if (server === undefined || server.exitCode !== null || server.signalCode !== null) return;
    const exited = once(server, 'exit');
    server.kill('SIGKILL');
    await exited;
  };

  before(async () => {
    // A port another process grabs between freePort() and redis-server's bind makes the start fail: retry.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        server = await startServer();
        return;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  });
  after(async () => {
    await stopServer();
    for (const child of children) child.kill('SIGKILL');
  });

  test('decisions follow the fail mode while Redis is down; health goes false, is reported once, then recovers', async () => {
    const clock = createFakeClock(); // paces health reports; the test moves it
    const reports: Array<[boolean, string | undefined]> = [];
    const url = `redis://127.0.0.1:${port}`;
    const open = await openRedisCounters(url, {
      prefix: 'pc-outage:',
      clock,
      healthReportIntervalMs: 10_000,
      onHealthChange: (ok, err) => reports.push([ok, err?.message]),
      reconnectMaxDelayMs: 100,
    });
    const closed = await openRedisCounters(url, { prefix: 'pc-outage:', failMode: 'closed', quotaFailMode: 'closed', reconnectMaxDelayMs: 100 });
    try {
      const specs = [{ key: 'k', rateLimit: 0, burstLimit: 1 }];
      const now = clock.now();
      // Healthy: a real decision, the one token is gone for both handles.
      assert.deepEqual(await open.takeBuckets(specs, now), { allowed: true, remaining: 0, retryAfterMs: 0, deniedBy: -1 });
      assert.equal((await closed.takeBuckets(specs, now)).allowed, false);
      assert.equal(open.health().ok, true);

      await stopServer();

      // Down: the open adapter lets requests through, the closed one refuses; both say so (degraded).
      for (let i = 0; i < 5; i++) {
        const d = await open.takeBuckets(specs, now);
        assert.equal(d.allowed, true);
        assert.equal(d.degraded, true);
        const q = await open.consumeQuota('q', 1, now + 60_000, now);
        assert.deepEqual([q.allowed, q.degraded], [true, true]);
        const c = await closed.takeBuckets(specs, now);
        assert.deepEqual([c.allowed, c.degraded], [false, true]);
        const cq = await closed.consumeQuota('q', 1, now + 60_000, now);
        assert.deepEqual([cq.allowed, cq.degraded], [false, true]);
      }
      const h = open.health();
      assert.equal(h.ok, false);
      assert.equal(typeof h.lastError, 'string');
      assert.equal(closed.health().ok, false);
      assert.equal(reports.length, 1, `one outage report, however many failures: ${JSON.stringify(reports)}`);
      assert.equal(reports[0][0], false);

      // Within the interval, more failures stay quiet; once it passed and Redis is still down, nothing new
      // is reported either (the outage was already told).
      clock.advance(20_000);
      await open.takeBuckets(specs, now);
      assert.equal(reports.length, 1);

      server = await startServer();
      // Bounded polling: the client reconnects on its own.
      await waitFor(async () => open.health().ok && closed.health().ok, 10_000, 'the adapters to reconnect');
      assert.deepEqual(reports.at(-1), [true, undefined]);
      assert.equal(reports.length, 2);

      // Back to real decisions (the new server is empty: the bucket is full again).
      const d = await open.takeBuckets(specs, now);
      assert.deepEqual([d.allowed, d.degraded], [true, undefined]);
      const c = await closed.takeBuckets(specs, now);
      assert.deepEqual([c.allowed, c.degraded, c.deniedBy], [false, undefined, 0]);
      assert.equal((await closed.consumeQuota('q', 1, now + 60_000, now)).allowed, true);
    } finally {
      await open.close();
      await closed.close();
    }
  });

  test('waitForConnection false: starts degraded while Redis is down, then connects by itself', async () => {
    await stopServer();
    const reports: boolean[] = [];
    const c = await openRedisCounters(`redis://127.0.0.1:${port}`, {
      prefix: 'pc-lazy:',
      waitForConnection: false,
      reconnectMaxDelayMs: 100,
      onHealthChange: (ok) => reports.push(ok),
    });
    try {
      assert.equal(c.health().ok, false);
      const d = await c.takeBuckets([{ key: 'k', rateLimit: 1, burstLimit: 1 }], 0);
      assert.deepEqual([d.allowed, d.degraded], [true, true]);
      server = await startServer();
      await waitFor(async () => c.health().ok, 10_000, 'the adapter to connect');
      const e = await c.takeBuckets([{ key: 'k', rateLimit: 1, burstLimit: 1 }], 0);
      assert.deepEqual([e.allowed, e.degraded], [true, undefined]);
      assert.deepEqual(reports, [false, true]);
    } finally {
      await c.close();
    }
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Polls `check` every 50 ms until true; fails after `timeoutMs` naming what it waited for. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
