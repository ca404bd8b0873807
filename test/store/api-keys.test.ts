// The API-key sub-port contract (keys, rotation, subscriptions, import, usage, version), run against SQLite
// and the real PostgreSQL server alike.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { StoreConflictError, StoreNotFoundError, type Store } from '../../src/store/ports.ts';
import { CHANGE_LOG_KEEP, type NewApiKey } from '../../src/store/api-keys-port.ts';
import { TEST_PG_URL, createTestSchemas, requirePostgres } from './pg-test-env.ts';

const h = (v: string) => createHash('sha256').update(v).digest('hex');
const T0 = '2026-11-01T00:00:00.000Z';
const key = (id: string, over: Partial<NewApiKey> = {}): NewApiKey => ({
  id,
  name: `name-${id}`,
  description: '',
  customerId: null,
  tags: {},
  enabled: true,
  createdAt: T0,
  expiresAt: null,
  hash: h(id),
  hint: 'pck_abcd',
  ...over,
});

function contract(kind: string, open: (ns: string) => Promise<Store>): void {
  describe(`API key store contract: ${kind}`, () => {
    let n = 0;
    const fresh = () => open(`ak${++n}`);

    test('create, get, findByHash, list; conflicts on id and hash', async () => {
      const s = await fresh();
      try {
        const k = await s.apiKeys.create(key('a1', { tags: { team: 'x' }, customerId: 'c1', expiresAt: '2027-01-01T00:00:00Z' }), ['gold']);
        assert.equal(k.id, 'a1');
        assert.deepEqual(k.tags, { team: 'x' });
        assert.equal(k.customerId, 'c1');
        assert.equal(k.expiresAt, '2027-01-01T00:00:00.000Z');
        assert.equal(k.updatedAt, T0);
        assert.equal(k.enabled, true);
        assert.deepEqual((await s.apiKeys.get('a1'))?.hash, h('a1'));
        assert.equal((await s.apiKeys.findByHash(h('a1')))?.id, 'a1');
        assert.equal(await s.apiKeys.findByHash(h('zz')), undefined);
        await assert.rejects(s.apiKeys.create(key('a1', { hash: h('other') })), StoreConflictError);
        await assert.rejects(s.apiKeys.create(key('a2', { hash: h('a1') })), StoreConflictError);
        await s.apiKeys.create(key('a0'));
        assert.deepEqual((await s.apiKeys.list()).map((r) => r.id), ['a0', 'a1']);
        assert.deepEqual((await s.apiKeys.list({ after: 'a0', limit: 5 })).map((r) => r.id), ['a1']);
        assert.deepEqual(await s.apiKeys.subscriptions({ keyId: 'a1' }), [{ keyId: 'a1', plan: 'gold', createdAt: T0 }]);
        await assert.rejects(s.apiKeys.create(key('bad', { hash: 'nothex' })), TypeError);
      } finally {
        await s.close();
      }
    });

    test('update, rotate with a grace period, delete; the version moves on each change', async () => {
      const s = await fresh();
      try {
        const v0 = await s.apiKeys.version();
        await s.apiKeys.create(key('b1'));
        const v1 = await s.apiKeys.version();
        assert.ok(v1 > v0);
        const u = await s.apiKeys.update('b1', { enabled: false, description: 'd' }, '2026-11-02T00:00:00Z');
        assert.equal(u.enabled, false);
        assert.equal(u.description, 'd');
        assert.equal(u.updatedAt, '2026-11-02T00:00:00.000Z');
        assert.ok((await s.apiKeys.version()) > v1);
        await assert.rejects(s.apiKeys.update('nope', { enabled: true }, T0), StoreNotFoundError);
        const r = await s.apiKeys.rotate('b1', { hash: h('b1-new'), hint: 'pck_new1', until: '2026-11-03T00:00:00Z' }, T0);
        assert.equal(r.hash, h('b1-new'));
        assert.equal(r.previousHash, h('b1'));
        assert.equal(r.previousHashUntil, '2026-11-03T00:00:00.000Z');
        assert.equal((await s.apiKeys.findByHash(h('b1')))?.id, 'b1');
        const r2 = await s.apiKeys.rotate('b1', { hash: h('b1-newer'), hint: 'pck_new2', until: null }, T0);
        assert.equal(r2.previousHash, null);
        assert.equal(await s.apiKeys.findByHash(h('b1')), undefined);
        await s.apiKeys.subscribe('b1', 'gold', T0);
        assert.equal(await s.apiKeys.delete('b1'), true);
        assert.equal(await s.apiKeys.delete('b1'), false);
        assert.deepEqual(await s.apiKeys.subscriptions({ keyId: 'b1' }), []);
      } finally {
        await s.close();
      }
    });

    test('subscriptions: subscribe is idempotent, unknown key refused, unsubscribe', async () => {
      const s = await fresh();
      try {
        await s.apiKeys.create(key('c1'));
        await s.apiKeys.subscribe('c1', 'gold', T0);
        await s.apiKeys.subscribe('c1', 'gold', '2026-12-01T00:00:00Z');
        await s.apiKeys.subscribe('c1', 'silver', T0);
        assert.deepEqual((await s.apiKeys.subscriptions({ plan: 'gold' })).map((x) => [x.keyId, x.createdAt]), [['c1', T0]]);
        assert.equal((await s.apiKeys.subscriptions()).length, 2);
        await assert.rejects(s.apiKeys.subscribe('ghost', 'gold', T0), StoreNotFoundError);
        assert.equal(await s.apiKeys.unsubscribe('c1', 'gold'), true);
        assert.equal(await s.apiKeys.unsubscribe('c1', 'gold'), false);
      } finally {
        await s.close();
      }
    });

    test('exclusive plans: of subscriptions racing for plans that exclude each other, exactly one wins (two connections)', async () => {
      const s = await fresh();
      const peer = await open(`ak${n}`); // a second store on the same data: another node
      try {
        await s.apiKeys.create(key('x0'));
        await s.apiKeys.subscribe('x0', 'gold', T0, ['silver']);
        await assert.rejects(s.apiKeys.subscribe('x0', 'silver', T0, ['gold']), (err: Error) =>
          err instanceof StoreConflictError && /is in plan "gold", which covers an API stage of plan "silver"/.test(err.message));
        await s.apiKeys.subscribe('x0', 'gold', T0, ['silver']); // idempotent, not a conflict with itself
        for (let i = 1; i <= 10; i++) {
          await s.apiKeys.create(key(`x${i}`));
          const results = await Promise.allSettled([
            s.apiKeys.subscribe(`x${i}`, 'gold', T0, ['silver']),
            peer.apiKeys.subscribe(`x${i}`, 'silver', T0, ['gold']),
          ]);
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `key x${i}: ${JSON.stringify(results)}`);
          assert.equal((await s.apiKeys.subscriptions({ keyId: `x${i}` })).length, 1);
        }
      } finally {
        await peer.close();
        await s.close();
      }
    });

    test('importMany: creates, overwrites by value, all or nothing', async () => {
      const s = await fresh();
      try {
        await s.apiKeys.create(key('d0', { hash: h('v0') }));
        const res = await s.apiKeys.importMany(
          [
            { key: key('d1', { hash: h('v1') }), plans: ['gold'] },
            { key: key('dx', { hash: h('v0'), name: 'renamed', enabled: false }), plans: ['silver'] },
          ],
          T0,
        );
        assert.deepEqual(res, { created: 1, updated: 1 });
        const d0 = await s.apiKeys.get('d0');
        assert.equal(d0?.name, 'renamed');
        assert.equal(d0?.enabled, false);
        assert.equal(await s.apiKeys.get('dx'), undefined);
        assert.deepEqual((await s.apiKeys.subscriptions({ keyId: 'd0' })).map((x) => x.plan), ['silver']);
        // An id clash in the second row undoes the first.
        await assert.rejects(
          s.apiKeys.importMany([{ key: key('d2', { hash: h('v2') }), plans: [] }, { key: key('d1', { hash: h('v3') }), plans: [] }], T0),
          StoreConflictError,
        );
        assert.equal(await s.apiKeys.get('d2'), undefined);
        const many = Array.from({ length: 12_000 }, (_, i) => ({ key: key(`m${i}`, { hash: h(`m${i}`) }), plans: ['gold'] }));
        assert.deepEqual(await s.apiKeys.importMany(many, T0), { created: 12_000, updated: 0 });
        assert.equal((await s.apiKeys.list()).length, 12_002);
      } finally {
        await s.close();
      }
    });

    test('changesSince names the keys changed after a version; an import, or a version past the log, is "all"', async () => {
      const s = await fresh();
      try {
        const v0 = await s.apiKeys.version();
        assert.deepEqual(await s.apiKeys.changesSince(v0), { version: v0, keys: [] });
        await s.apiKeys.create(key('c1'));
        await s.apiKeys.create(key('c2'));
        const v2 = await s.apiKeys.version();
        await s.apiKeys.update('c1', { enabled: false }, T0);
        await s.apiKeys.subscribe('c2', 'gold', T0);
        await s.apiKeys.unsubscribe('c2', 'gold');
        await s.apiKeys.rotate('c1', { hash: h('c1-next'), hint: 'pck_next', until: null }, T0);
        await s.apiKeys.delete('c2');
        const v = await s.apiKeys.version();
        assert.equal(v, v0 + 7);
        assert.deepEqual(await s.apiKeys.changesSince(v0), { version: v, keys: ['c1', 'c2'] }, 'distinct, in the order of their latest change');
        assert.deepEqual(await s.apiKeys.changesSince(v2), { version: v, keys: ['c1', 'c2'] });
        assert.deepEqual(await s.apiKeys.changesSince(v - 1), { version: v, keys: ['c2'] });
        assert.deepEqual(await s.apiKeys.changesSince(v), { version: v, keys: [] });
        await s.apiKeys.importMany([{ key: key('c3'), plans: ['gold'] }], T0);
        assert.deepEqual(await s.apiKeys.changesSince(v), { version: v + 1, keys: 'all' });
        assert.deepEqual(await s.apiKeys.changesSince(v0 - CHANGE_LOG_KEEP), { version: v + 1, keys: 'all' }, 'further back than the log keeps');
        assert.equal(await s.apiKeys.version(), v + 1);
      } finally {
        await s.close();
      }
    });

    test('usage: deltas add up per plan, key and day; filtered by range and key', async () => {
      const s = await fresh();
      try {
        const v = await s.apiKeys.version();
        await s.apiKeys.addUsage([
          { plan: 'gold', keyId: 'k1', day: '2026-11-01', used: 3 },
          { plan: 'gold', keyId: 'k1', day: '2026-11-01', used: 2 },
          { plan: 'gold', keyId: 'k1', day: '2026-11-02', used: 1, adjust: -4 },
          { plan: 'gold', keyId: 'k2', day: '2026-11-02', used: 7 },
          { plan: 'silver', keyId: 'k1', day: '2026-11-02', used: 9 },
        ]);
        await s.apiKeys.addUsage([{ plan: 'gold', keyId: 'k1', day: '2026-11-01', used: 10 }]);
        assert.equal(await s.apiKeys.version(), v);
        assert.deepEqual(await s.apiKeys.usage({ plan: 'gold', fromDay: '2026-11-01', toDay: '2026-11-30' }), [
          { plan: 'gold', keyId: 'k1', day: '2026-11-01', used: 15, adjust: 0 },
          { plan: 'gold', keyId: 'k1', day: '2026-11-02', used: 1, adjust: -4 },
          { plan: 'gold', keyId: 'k2', day: '2026-11-02', used: 7, adjust: 0 },
        ]);
        assert.deepEqual(
          (await s.apiKeys.usage({ plan: 'gold', fromDay: '2026-11-02', toDay: '2026-11-02', keyId: 'k2' })).map((r) => r.used),
          [7],
        );
        await assert.rejects(s.apiKeys.usage({ plan: 'gold', fromDay: 'nov', toDay: '2026-11-02' }), TypeError);
      } finally {
        await s.close();
      }
    });

    test('raiseUsage: whole counts raise a record and never lower it (copies may repeat or arrive out of order); adjustments stay', async () => {
      const s = await fresh();
      try {
        const v = await s.apiKeys.version();
        await s.apiKeys.addUsage([{ plan: 'gold', keyId: 'k1', day: '2026-11-01', used: 0, adjust: 5 }]);
        await s.apiKeys.raiseUsage([
          { plan: 'gold', keyId: 'k1', day: '2026-11-01', used: 7 },
          { plan: 'gold', keyId: 'k2', day: '2026-11-01', used: 3 },
        ]);
        await s.apiKeys.raiseUsage([
          { plan: 'gold', keyId: 'k1', day: '2026-11-01', used: 4 }, // an older copy: ignored
          { plan: 'gold', keyId: 'k2', day: '2026-11-01', used: 3 }, // the same copy again
          { plan: 'gold', keyId: 'k2', day: '2026-11-01', used: 9 }, // and a newer one in the same batch
        ]);
        assert.equal(await s.apiKeys.version(), v);
        assert.deepEqual(await s.apiKeys.usage({ plan: 'gold', fromDay: '2026-11-01', toDay: '2026-11-01' }), [
          { plan: 'gold', keyId: 'k1', day: '2026-11-01', used: 7, adjust: 5 },
          { plan: 'gold', keyId: 'k2', day: '2026-11-01', used: 9, adjust: 0 },
        ]);
        await assert.rejects(s.apiKeys.raiseUsage([{ plan: 'gold', keyId: 'k1', day: '2026-11-01', used: -1 }]), TypeError);
        await assert.rejects(s.apiKeys.raiseUsage([{ plan: 'gold', keyId: 'k1', day: '1 Nov', used: 1 }]), TypeError);
      } finally {
        await s.close();
      }
    });
  });
}

const root = mkdtempSync(join(tmpdir(), 'pc-apikeys-'));
after(() => rmSync(root, { recursive: true, force: true }));
contract('sqlite', (ns) => createSqliteStore({ file: join(root, ns, 'store.db') }));

if (await requirePostgres('API key store contract: postgres')) {
  const schemas = createTestSchemas();
  after(() => schemas.dropAll());
  contract('postgres', (ns) => createPostgresStore({ url: TEST_PG_URL, schema: schemas.name(ns), poolSize: 3 }));
}
