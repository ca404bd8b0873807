// Runs the counters contract against the in-process adapter, plus what only it promises: synchronous
// answers (no promise on the hot path) and pruning of full buckets and ended quota windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../../src/core/clock.ts';
import { createMemoryCounters } from '../../src/store/counters/memory-counters.ts';
import { openCounters } from '../../src/store/counters/open-counters.ts';
import { counterContract } from './counter-contract.ts';

const shared = createMemoryCounters();
counterContract({
  name: 'memory',
  open: async () => shared,
  openPeer: async () => shared,
});

test('memory: decisions are synchronous values, not promises', () => {
  const c = createMemoryCounters();
  const d = c.takeBuckets([{ key: 'a', rateLimit: 1, burstLimit: 1 }], 0);
  assert.equal(d instanceof Promise, false);
  assert.equal(d.allowed, true);
  const q = c.consumeQuota('q', 1, 1_000, 0);
  assert.equal(q instanceof Promise, false);
  assert.equal(q.allowed, true);
});

test('memory: full buckets and ended quota windows are pruned as time moves; rate-0 buckets are kept', () => {
  const clock = createFakeClock();
  const t0 = clock.now();
  const c = createMemoryCounters({ clock, sweepIntervalMs: 1_000 });
  c.takeBuckets([{ key: 'refills', rateLimit: 10, burstLimit: 5 }, { key: 'never', rateLimit: 0, burstLimit: 5 }], t0);
  c.consumeQuota('q', 10, t0 + 5_000, t0);
  assert.deepEqual(c.size, { buckets: 2, quotas: 1 });
  c.takeBuckets([], t0 + 1_000); // sweep: 'refills' is full again after 100 ms
  assert.deepEqual(c.size, { buckets: 1, quotas: 1 });
  c.consumeQuota('other', 10, t0 + 60_000, t0 + 6_000); // sweep: window of 'q' ended
  assert.equal(c.size.quotas, 1);
  // The rate-0 bucket still remembers its consumed token.
  let ok = 0;
  for (let i = 0; i < 10; i++) if (c.takeBuckets([{ key: 'never', rateLimit: 0, burstLimit: 5 }], t0 + 99_000).allowed) ok++;
  assert.equal(ok, 4);
});

test('openCounters("memory") opens the in-process adapter; unknown specs are refused without leaking secrets', async () => {
  const c = await openCounters('memory');
  assert.equal(c.kind, 'memory');
  await c.close();
  await assert.rejects(openCounters('mysql://user:secret@db'), (err: Error) => !err.message.includes('secret'));
});
