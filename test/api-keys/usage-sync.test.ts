// The usage syncer against the real Redis and a SQLite store: what Redis counted reaches the store as whole counts,
// one node copies at a time, a failed copy is retried by the next round, and rounds copy in batches.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { openRedisCounters, type RedisCounters } from '../../src/store/counters/redis-counters.ts';
import { usageRecordId } from '../../src/store/counters/ports.ts';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/ports.ts';
import type { UsageCount } from '../../src/store/api-keys-port.ts';
import { startUsageSync } from '../../src/keys/usage-sync.ts';

const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `pc-usage-sync:${randomBytes(4).toString('hex')}:`;
const dir = mkdtempSync(join(tmpdir(), 'pc-usage-sync-'));
let nodeA: RedisCounters;
let nodeB: RedisCounters;
let store: Store;

before(async () => {
  nodeA = await openRedisCounters(REDIS_URL, { prefix });
  nodeB = await openRedisCounters(REDIS_URL, { prefix });
  store = await createSqliteStore({ file: join(dir, 'store.db') });
});

after(async () => {
  await nodeA?.close();
  await nodeB?.close();
  await store?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const NOW = Date.parse('2026-11-20T08:00:00Z');
const usageOf = async (keyId?: string) =>
  (await store.apiKeys.usage({ plan: 'gold', fromDay: '2026-11-20', toDay: '2026-11-20', ...(keyId ? { keyId } : {}) })).map((r) => [r.keyId, r.used]);

test('decisions counted in Redis reach the store; only the node holding the lease copies; a failed copy is retried', async () => {
  const k1 = usageRecordId('gold', 'k1');
  let failNext = true;
  const flaky = {
    async raiseUsage(counts: readonly UsageCount[]) {
      if (failNext) {
        failNext = false;
        throw new Error('store unavailable');
      }
      await store.apiKeys.raiseUsage(counts);
    },
  };
  const errors: unknown[] = [];
  const syncA = startUsageSync({ ledger: nodeA.usage, store: flaky, intervalMs: 60_000, onError: (e) => errors.push(e) });
  const syncB = startUsageSync({ ledger: nodeB.usage, store: store.apiKeys, intervalMs: 60_000 });
  try {
    await Promise.all(Array.from({ length: 5 }, () => nodeA.takeBuckets([], NOW, k1)));
    await syncA.syncNow();
    assert.equal(errors.length, 1, 'the first copy failed');
    assert.deepEqual(await usageOf(), []);
    // Node A holds the lease (taken by the failed round): node B's round copies nothing.
    await syncB.syncNow();
    assert.deepEqual(await usageOf(), []);
    await syncA.syncNow();
    assert.deepEqual(await usageOf(), [['k1', 5]], 'the records stayed marked and were copied by the next round');
    // More requests through node B are counted into the same record; node A copies them.
    await Promise.all(Array.from({ length: 3 }, () => nodeB.takeBuckets([], NOW, k1)));
    await syncA.syncNow();
    assert.deepEqual(await usageOf(), [['k1', 8]]);
  } finally {
    await syncA.close();
    await syncB.close();
  }
});

test('a round copies many records in batches', async () => {
  const deltas = Array.from({ length: 12_000 }, (_, i) => ({ plan: 'gold', keyId: `m${String(i).padStart(5, '0')}`, day: '2026-11-20', used: (i % 7) + 1 }));
  for (let i = 0; i < deltas.length; i += 2_000) await nodeA.usage.add(deltas.slice(i, i + 2_000));
  const sync = startUsageSync({ ledger: nodeA.usage, store: store.apiKeys, intervalMs: 60_000, batch: 5_000 });
  try {
    await sync.syncNow();
  } finally {
    await sync.close();
  }
  const rows = (await usageOf()).filter(([id]) => String(id).startsWith('m'));
  assert.equal(rows.length, 12_000);
  assert.deepEqual(rows[11_999], ['m11999', (11_999 % 7) + 1]);
  assert.deepEqual(await nodeA.usage.changed(10), [], 'nothing left to copy');
});
