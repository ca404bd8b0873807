// The in-memory key directory: lookups by keyed hash, a notified change applied at once, a change whose
// notification was lost picked up by the one-second version poll (node:test mock timers), rotated values
// kept until their grace end, equal plan lists shared between keys.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { compactHash, createKeyDirectory, keyChangePayload } from './key-directory.ts';
import { systemClock } from '../core/clock.ts';
import { ALL_KEYS, keyChanges, type ApiKeyStore, type DirectoryRow } from '../store/api-keys-port.ts';
import type { ChangeNotifier } from '../store/ports.ts';

const hashOf = (v: string) => createHmac('sha256', 'secret').update(v).digest('hex');
const row = (id: string, over: Partial<DirectoryRow> = {}): DirectoryRow => ({
  id, enabled: true, expiresAt: null, hash: hashOf(id), previousHash: null, previousHashUntil: null, plans: [['gold', 1_000]], ...over,
});

function fakeStore(rows: DirectoryRow[]) {
  let version = 1;
  /** The change log: key id per version (index = version - 2). */
  const log: string[] = [];
  const listeners: Array<(p: string) => void> = [];
  const reads = { pages: 0 };
  const store = {
    version: async () => version,
    directoryPage: async (after: string, limit: number) => {
      reads.pages++;
      return rows.filter((r) => r.id > after).sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, limit);
    },
    changesSince: async (since: number) => keyChanges(version, since, log.slice(Math.max(0, since - 1))),
  } as unknown as ApiKeyStore;
  const changes: ChangeNotifier = {
    publish: async (_c, p) => listeners.forEach((l) => l(p)),
    subscribe: async (_c, l) => (listeners.push(l), async () => {}),
  };
  return {
    store,
    changes,
    reads,
    /** Changes a row and bumps the version, like the store does; notifies only when asked. */
    change(id: string, next: DirectoryRow | undefined, notify: boolean) {
      const i = rows.findIndex((r) => r.id === id);
      if (i >= 0) rows.splice(i, 1);
      if (next) rows.push(next);
      version++;
      log.push(id);
      if (notify) void changes.publish('entities', keyChangePayload(id));
    },
    /** A bulk change (an import), logged as every key. */
    bulk(next: DirectoryRow[]) {
      rows.push(...next);
      version++;
      log.push(ALL_KEYS);
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

test('lookup by hex or compact hash; equal plan lists are one shared array', async () => {
  const f = fakeStore([row('k1'), row('k2'), row('k3', { plans: [['silver', 5]] })]);
  const dir = await createKeyDirectory({ store: f.store, clock: systemClock });
  try {
    assert.equal(dir.size, 3);
    assert.equal(dir.lookup(hashOf('k1'))?.key.id, 'k1');
    assert.equal(dir.lookupCompact!(compactHash(hashOf('k2')))?.key.id, 'k2');
    assert.equal(dir.lookup(hashOf('k1'))?.untilMs, Infinity);
    assert.equal(dir.lookup(hashOf('nope')), undefined);
    assert.equal(dir.lookup(hashOf('k1'))!.key.plans, dir.lookup(hashOf('k2'))!.key.plans, 'shared');
    assert.deepEqual(dir.lookup(hashOf('k3'))!.key.plans, [['silver', 5]]);
  } finally {
    await dir.close();
  }
});

test('a notified change applies at once; a lost notification is caught by the 1 s version poll', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  const f = fakeStore([row('k1'), row('k2')]);
  const dir = await createKeyDirectory({ store: f.store, changes: f.changes, clock: systemClock });
  try {
    f.change('k1', row('k1', { enabled: false }), true);
    await settle();
    assert.equal(dir.lookup(hashOf('k1'))?.key.enabled, false, 'notified: refreshed without waiting for the poll');

    f.change('k2', undefined, false); // deleted; the notification never arrives
    await settle();
    assert.ok(dir.lookup(hashOf('k2')), 'not heard yet');
    mock.timers.tick(999);
    await settle();
    assert.ok(dir.lookup(hashOf('k2')), 'the poll has not run yet');
    mock.timers.tick(1);
    for (let i = 0; i < 5; i++) await settle();
    assert.equal(dir.lookup(hashOf('k2')), undefined, 'gone after one poll interval (1 s)');
    assert.equal(dir.size, 1);
  } finally {
    await dir.close();
    mock.timers.reset();
  }
});

test('a rotated key answers to both values; the old one carries its grace end; deleting drops both', async () => {
  const f = fakeStore([row('k1', { hash: hashOf('new'), previousHash: hashOf('old'), previousHashUntil: 5_000 })]);
  const dir = await createKeyDirectory({ store: f.store, changes: f.changes, clock: systemClock });
  try {
    assert.equal(dir.lookup(hashOf('new'))?.untilMs, Infinity);
    const old = dir.lookup(hashOf('old'));
    assert.equal(old?.key.id, 'k1');
    assert.equal(old?.untilMs, 5_000);
    f.change('k1', undefined, true);
    await settle();
    await settle();
    assert.equal(dir.lookup(hashOf('new')), undefined);
    assert.equal(dir.lookup(hashOf('old')), undefined);
  } finally {
    await dir.close();
  }
});

test('a large reload lets the event loop turn between pages (a synchronous store does not stall requests)', async () => {
  const rows = Array.from({ length: 3_500 }, (_, i) => row(`k${String(i).padStart(5, '0')}`));
  const f = fakeStore(rows);
  const dir = await createKeyDirectory({ store: f.store, clock: systemClock });
  try {
    assert.equal(dir.size, 3_500);
    let turned = false;
    setImmediate(() => (turned = true));
    let done = false;
    const reloading = dir.reload().then(() => (done = true));
    // The store's pages resolve at once; only a yield between pages lets the timer phase run first.
    await new Promise((r) => setImmediate(r));
    assert.equal(turned, true);
    assert.equal(done, false, 'still loading after one turn of the event loop');
    await reloading;
    assert.equal(dir.size, 3_500);
  } finally {
    await dir.close();
  }
});

test('a poll re-reads only the keys the change log names; an import (or a log that ends) reloads everything', async () => {
  mock.timers.enable({ apis: ['setInterval'] });
  const many = Array.from({ length: 2_500 }, (_, i) => row(`k${String(i).padStart(5, '0')}`));
  const f = fakeStore(many);
  const dir = await createKeyDirectory({ store: f.store, clock: systemClock });
  const poll = async () => {
    mock.timers.tick(1_000);
    for (let i = 0; i < 10; i++) await settle();
  };
  try {
    assert.equal(f.reads.pages, 3, 'the first load: three pages of 1,000');
    f.change('k00007', row('k00007', { enabled: false }), false);
    f.change('k00008', undefined, false);
    await poll();
    assert.equal(dir.lookup(hashOf('k00007'))?.key.enabled, false);
    assert.equal(dir.lookup(hashOf('k00008')), undefined);
    assert.equal(f.reads.pages, 3 + 2, 'one query per changed key, not a reload of 2,500');
    await poll();
    assert.equal(f.reads.pages, 5, 'nothing changed: nothing read');

    f.bulk([row('n1'), row('n2')]);
    await poll();
    assert.equal(dir.lookup(hashOf('n2'))?.key.id, 'n2');
    assert.equal(f.reads.pages, 5 + 3, 'an import: one full reload');
    assert.equal(dir.size, 2_501);
  } finally {
    await dir.close();
    mock.timers.reset();
  }
});
