// The usage recorder's bound on loss: counts reach the store within one flush interval (1 s), so a kill -9
// loses at most the last second; a failed write is retried, not dropped. Timers are node:test mock timers.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createUsageRecorder } from './usage-recorder.ts';
import type { ApiKeyStore, UsageDelta } from '../store/api-keys-port.ts';
import type { UsageIdentity } from '../gateway/stages/api-key/schema.ts';

const NOW = Date.UTC(2026, 10, 24, 12);
const identity = { keyId: 'k1', plan: { name: 'gold' } } as unknown as UsageIdentity;

function fakeStore(fail = 0) {
  const written: UsageDelta[] = [];
  let failures = fail;
  const store = {
    addUsage: async (deltas: UsageDelta[]) => {
      if (failures-- > 0) throw new Error('store down');
      written.push(...deltas);
    },
  } as unknown as ApiKeyStore;
  return { store, written };
}

test('counts are written within one second: nothing before the interval, everything at it', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const { store, written } = fakeStore();
    const rec = createUsageRecorder({ write: (d) => store.addUsage(d) });
    for (let i = 0; i < 5; i++) rec.count(identity, NOW);
    mock.timers.tick(999);
    await new Promise((r) => setImmediate(r));
    assert.equal(written.length, 0);
    mock.timers.tick(1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(written, [{ plan: 'gold', keyId: 'k1', day: '2026-11-24', used: 5 }]);
    await rec.close();
  } finally {
    mock.timers.reset();
  }
});

test('a failed write is retried at the next tick; a new UTC day starts a new row', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const errors: unknown[] = [];
    const { store, written } = fakeStore(1);
    const rec = createUsageRecorder({ write: (d) => store.addUsage(d), onError: (e) => errors.push(e) });
    rec.count(identity, NOW);
    rec.count(identity, NOW);
    mock.timers.tick(1000);
    await new Promise((r) => setImmediate(r));
    assert.equal(errors.length, 1);
    assert.equal(written.length, 0);
    rec.count(identity, Date.UTC(2026, 10, 25, 0, 0, 1));
    mock.timers.tick(1000);
    await new Promise((r) => setImmediate(r));
    await rec.close();
    const sum = (day: string) => written.filter((d) => d.day === day).reduce((n, d) => n + d.used, 0);
    assert.equal(sum('2026-11-24'), 2);
    assert.equal(sum('2026-11-25'), 1);
  } finally {
    mock.timers.reset();
  }
});
