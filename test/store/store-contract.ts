// The one contract every Store adapter must pass (ARCHITECTURE.md section 4), run by sqlite.test.ts and
// postgres.test.ts against real databases. Adapter-specific behaviour is tested beside those calls.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createFakeClock, type Clock, type FakeClock } from '../../src/core/clock.ts';
import { StoreConflictError, StoreNotFoundError, type ChangeChannel, type Store } from '../../src/store/ports.ts';

/**
 * Opens a store on `namespace` (a file, a schema...). The contract gives every test fresh namespaces; opening
 * the same namespace again must reach the same data, as a second gateway process would.
 */
export type StoreFactory = (namespace: string, options: { clock: Clock }) => Promise<Store>;

const NOTIFY_DEADLINE_MS = 5000;

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function newRevision(source: string, extra: { comment?: string | null; createdBy?: string | null } = {}) {
  return { source, format: 'yaml' as const, sha256: sha256(source), ...extra };
}

/** Bounded polling: resolves once `condition` holds, fails after the deadline. */
export async function waitFor(condition: () => boolean, what: string, deadlineMs = NOTIFY_DEADLINE_MS): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Subscribes and records every payload, so a test can wait for one and check what else arrived. */
export async function record(store: Store, channel: ChangeChannel) {
  const received: string[] = [];
  const unsubscribe = await store.changes.subscribe(channel, (p) => received.push(p));
  return { received, unsubscribe };
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let counter = 0;
    const opened: Store[] = [];
    const clock: FakeClock = createFakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));

    function freshNamespace(): string {
      counter += 1;
      return `n${counter}`;
    }
    async function open(namespace: string, c: Clock = clock): Promise<Store> {
      const store = await factory(namespace, { clock: c });
      opened.push(store);
      return store;
    }
    const fresh = (): Promise<Store> => open(freshNamespace());

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    describe('revisions', () => {
      test('are numbered 1..n and keep what was stored, timestamped by the injected clock', async () => {
        const store = await fresh();
        const created = [];
        for (let i = 1; i <= 3; i++) {
          clock.advance(1000);
          created.push(await store.revisions.create(newRevision(`apis: [] # ${i}\n`, { comment: `c${i}`, createdBy: 'alice' })));
        }
        assert.deepEqual(
          created.map((r) => r.number),
          [1, 2, 3],
        );
        const second = await store.revisions.get(2);
        assert.deepEqual(second, created[1]);
        assert.equal(second?.source, 'apis: [] # 2\n');
        assert.equal(second?.format, 'yaml');
        assert.equal(second?.sha256, sha256('apis: [] # 2\n'));
        assert.equal(second?.sizeBytes, Buffer.byteLength('apis: [] # 2\n'));
        assert.equal(second?.comment, 'c2');
        assert.equal(second?.createdBy, 'alice');
        assert.equal(created[0].createdAt, new Date(Date.UTC(2026, 0, 1, 12, 0, 1)).toISOString());
        assert.equal(await store.revisions.get(4), undefined);
        assert.equal(await store.revisions.get(0), undefined);
        assert.equal(await store.revisions.get(1.5), undefined);
      });

      test('count sizes in UTF-8 bytes and default comment/createdBy to null', async () => {
        const store = await fresh();
        const source = '{"name":"café ☕"}';
        const rev = await store.revisions.create({ source, format: 'json', sha256: sha256(source) });
        assert.equal(rev.sizeBytes, Buffer.byteLength(source, 'utf8'));
        assert.notEqual(rev.sizeBytes, source.length);
        const back = await store.revisions.get(rev.number);
        assert.equal(back?.format, 'json');
        assert.equal(back?.source, source);
        assert.equal(back?.comment, null);
        assert.equal(back?.createdBy, null);
      });

      test('are immutable: returned records are frozen and later writes do not change them', async () => {
        const store = await fresh();
        const first = await store.revisions.create(newRevision('a: 1\n'));
        assert.ok(Object.isFrozen(first));
        assert.throws(() => {
          (first as { source: string }).source = 'tampered';
        }, TypeError);
        await store.revisions.create(newRevision('a: 2\n'));
        await store.deployments.activate(1, null);
        const again = await store.revisions.get(1);
        assert.ok(Object.isFrozen(again));
        assert.deepEqual(again, first);
      });

      test('reject a sha256 that does not describe the source, and unknown formats', async () => {
        const store = await fresh();
        await assert.rejects(store.revisions.create({ source: 'x', format: 'yaml', sha256: sha256('y') }), /does not match/);
        await assert.rejects(store.revisions.create({ source: 'x', format: 'yaml', sha256: 'ABC' }), /64 lower-case hex/);
        await assert.rejects(
          store.revisions.create({ source: 'x', format: 'toml' as 'yaml', sha256: sha256('x') }),
          /format must be one of/,
        );
        assert.deepEqual(await store.revisions.list(), []);
      });

      test('list newest first, without the source, with limit and before', async () => {
        const store = await fresh();
        for (let i = 1; i <= 5; i++) await store.revisions.create(newRevision(`r${i}`));
        const all = await store.revisions.list();
        assert.deepEqual(
          all.map((r) => r.number),
          [5, 4, 3, 2, 1],
        );
        assert.equal('source' in all[0], false);
        assert.deepEqual(
          (await store.revisions.list({ limit: 2 })).map((r) => r.number),
          [5, 4],
        );
        assert.deepEqual(
          (await store.revisions.list({ before: 4 })).map((r) => r.number),
          [3, 2, 1],
        );
        assert.deepEqual(
          (await store.revisions.list({ before: 4, limit: 2 })).map((r) => r.number),
          [3, 2],
        );
        assert.deepEqual(await store.revisions.list({ before: 1 }), []);
        assert.deepEqual(await store.revisions.list({ limit: 0 }), []);
        await assert.rejects(store.revisions.list({ limit: -1 }), RangeError);
        await assert.rejects(store.revisions.list({ limit: 1.5 }), RangeError);
      });

      test('20 concurrent creates from two store instances get 20 distinct numbers', async () => {
        const namespace = freshNamespace();
        const [a, b] = [await open(namespace), await open(namespace)];
        const created = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).revisions.create(newRevision(`concurrent ${i}`))),
        );
        const numbers = created.map((r) => r.number);
        assert.equal(new Set(numbers).size, 20, `numbers were ${numbers.join(',')}`);
        assert.ok(numbers.every((n) => Number.isInteger(n) && n >= 1));
        const listed = await a.revisions.list();
        assert.deepEqual(
          listed.map((r) => r.number),
          [...numbers].sort((x, y) => y - x),
        );
        for (const rev of created) assert.equal((await b.revisions.get(rev.number))?.source, rev.source);
      });
    });

    describe('deployments', () => {
      test('activate records who and when; current is the latest; history is newest first', async () => {
        const store = await fresh();
        assert.equal(await store.deployments.current(), undefined);
        assert.deepEqual(await store.deployments.history(), []);
        await store.revisions.create(newRevision('one'));
        await store.revisions.create(newRevision('two'));

        clock.advance(5000);
        const d1 = await store.deployments.activate(2, 'alice');
        assert.equal(d1.revision, 2);
        assert.equal(d1.deployedBy, 'alice');
        assert.equal(d1.deployedAt, new Date(clock.now()).toISOString());
        assert.deepEqual(await store.deployments.current(), d1);

        clock.advance(5000);
        const d2 = await store.deployments.activate(1, null); // a rollback
        assert.ok(d2.id > d1.id);
        assert.equal(d2.deployedBy, null);
        assert.deepEqual(await store.deployments.current(), d2);

        const d3 = await store.deployments.activate(2, 'bob');
        assert.deepEqual(await store.deployments.history(), [d3, d2, d1]);
        assert.deepEqual(await store.deployments.history({ limit: 2 }), [d3, d2]);
        assert.deepEqual(await store.deployments.history({ limit: 0 }), []);
      });

      test('activating an unknown revision fails with StoreNotFoundError and changes nothing', async () => {
        const store = await fresh();
        await assert.rejects(store.deployments.activate(1, 'alice'), StoreNotFoundError);
        await store.revisions.create(newRevision('one'));
        const d = await store.deployments.activate(1, 'alice');
        await assert.rejects(store.deployments.activate(7, 'alice'), (err: unknown) => {
          assert.ok(err instanceof StoreNotFoundError);
          assert.equal(err.code, 'STORE_NOT_FOUND');
          assert.match(err.message, /revision 7/);
          return true;
        });
        await assert.rejects(store.deployments.activate(Number.NaN, 'alice'), StoreNotFoundError);
        assert.deepEqual(await store.deployments.current(), d);
        assert.equal((await store.deployments.history()).length, 1);
      });
    });

    describe('admin tokens', () => {
      const token = (id: string, secret: string, role: 'admin' | 'operator' | 'read-only' = 'admin') => ({
        id,
        name: `token ${id}`,
        role,
        hash: sha256(secret),
        hint: secret.slice(0, 8),
        createdAt: new Date(clock.now()).toISOString(),
      });

      test('create, get, findByHash and list', async () => {
        const store = await fresh();
        const a = await store.adminTokens.create(token('tok_a', 'pcat_secret_a', 'admin'));
        clock.advance(1000);
        const b = await store.adminTokens.create(token('tok_b', 'pcat_secret_b', 'read-only'));
        assert.equal(a.revokedAt, null);
        assert.equal(a.lastUsedAt, null);
        assert.deepEqual(await store.adminTokens.get('tok_a'), a);
        assert.deepEqual(await store.adminTokens.findByHash(sha256('pcat_secret_b')), b);
        assert.equal(await store.adminTokens.findByHash(sha256('unknown')), undefined);
        assert.equal(await store.adminTokens.get('nope'), undefined);
        assert.deepEqual(await store.adminTokens.list(), [a, b]);
        assert.equal(await store.adminTokens.countActive(), 2);
      });

      test('a duplicate id or hash is a StoreConflictError', async () => {
        const store = await fresh();
        await store.adminTokens.create(token('tok_a', 'secret-1'));
        await assert.rejects(store.adminTokens.create(token('tok_b', 'secret-1')), (err: unknown) => {
          assert.ok(err instanceof StoreConflictError);
          assert.equal(err.code, 'STORE_CONFLICT');
          assert.match(err.message, /hash/);
          return true;
        });
        await assert.rejects(store.adminTokens.create(token('tok_a', 'secret-2')), (err: unknown) => {
          assert.ok(err instanceof StoreConflictError);
          assert.match(err.message, /tok_a/);
          return true;
        });
        assert.equal((await store.adminTokens.list()).length, 1);
      });

      test('reject a bad role or a hash that is not hex SHA-256', async () => {
        const store = await fresh();
        await assert.rejects(store.adminTokens.create({ ...token('t', 's'), role: 'root' as 'admin' }), /role must be one of/);
        await assert.rejects(store.adminTokens.create({ ...token('t', 's'), hash: 'plain-secret' }), /hash must be/);
        assert.equal(await store.adminTokens.countActive(), 0);
      });

      test('revoke works once, then reports false; unknown ids report false', async () => {
        const store = await fresh();
        await store.adminTokens.create(token('tok_a', 'sa'));
        await store.adminTokens.create(token('tok_b', 'sb'));
        const at = '2026-02-03T04:05:06.789Z';
        assert.equal(await store.adminTokens.revoke('tok_a', at), true);
        assert.equal(await store.adminTokens.revoke('tok_a', '2026-03-01T00:00:00.000Z'), false);
        assert.equal(await store.adminTokens.revoke('missing', at), false);
        assert.equal((await store.adminTokens.get('tok_a'))?.revokedAt, at, 'a second revoke must not move revokedAt');
        assert.equal((await store.adminTokens.findByHash(sha256('sa')))?.revokedAt, at);
        assert.equal(await store.adminTokens.countActive(), 1);
        assert.equal((await store.adminTokens.list()).length, 2, 'revoked tokens stay listed');
      });

      test('touch records the last use, only forwards, and ignores unknown ids', async () => {
        const store = await fresh();
        await store.adminTokens.create(token('tok_a', 'sa'));
        await store.adminTokens.touch('tok_a', '2026-01-02T00:00:00.000Z');
        assert.equal((await store.adminTokens.get('tok_a'))?.lastUsedAt, '2026-01-02T00:00:00.000Z');
        await store.adminTokens.touch('tok_a', '2026-01-03T00:00:00.000Z');
        assert.equal((await store.adminTokens.get('tok_a'))?.lastUsedAt, '2026-01-03T00:00:00.000Z');
        await store.adminTokens.touch('tok_a', '2026-01-02T12:00:00.000Z'); // a late, older write
        assert.equal((await store.adminTokens.get('tok_a'))?.lastUsedAt, '2026-01-03T00:00:00.000Z');
        await store.adminTokens.touch('missing', '2026-01-03T00:00:00.000Z');
        await assert.rejects(store.adminTokens.touch('tok_a', 'yesterday'), /ISO 8601/);
      });

      test('timestamps come back as ISO 8601 UTC whatever offset they were given with', async () => {
        const store = await fresh();
        await store.adminTokens.create({ ...token('tok_a', 'sa'), createdAt: '2026-01-01T13:00:00+01:00' });
        await store.adminTokens.revoke('tok_a', '2026-01-02T01:30:00.5+02:00');
        const back = await store.adminTokens.get('tok_a');
        assert.equal(back?.createdAt, '2026-01-01T12:00:00.000Z');
        assert.equal(back?.revokedAt, '2026-01-01T23:30:00.500Z');
      });
    });

    describe('meta', () => {
      test('get, set and setIfAbsent', async () => {
        const store = await fresh();
        assert.equal(await store.meta.get('k'), undefined);
        assert.equal(await store.meta.setIfAbsent('k', 'first'), 'first');
        assert.equal(await store.meta.setIfAbsent('k', 'second'), 'first');
        assert.equal(await store.meta.get('k'), 'first');
        await store.meta.set('k', 'third');
        assert.equal(await store.meta.get('k'), 'third');
        await store.meta.set('other', '');
        assert.equal(await store.meta.get('other'), '');
      });

      test('concurrent setIfAbsent calls from two store instances all agree on one value', async () => {
        const namespace = freshNamespace();
        const [a, b] = [await open(namespace), await open(namespace)];
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).meta.setIfAbsent('server-secret', `candidate-${i}`)),
        );
        assert.equal(new Set(results).size, 1, `got ${results.join(', ')}`);
        assert.match(results[0], /^candidate-\d$/);
        assert.equal(await a.meta.get('server-secret'), results[0]);
        assert.equal(await b.meta.get('server-secret'), results[0]);
      });
    });

    describe('change notifications', () => {
      test('a subscriber hears its own store and a second store on the same location', async () => {
        const namespace = freshNamespace();
        const a = await open(namespace);
        const b = await open(namespace);
        const heard = await record(a, 'deployment');
        await a.changes.publish('deployment', 'from-a');
        await b.changes.publish('deployment', 'from-b');
        await waitFor(() => heard.received.length >= 2, 'both notifications');
        assert.deepEqual([...heard.received].sort(), ['from-a', 'from-b']);
      });

      test('channels are separate, and unsubscribe stops delivery to that listener only', async () => {
        const store = await fresh();
        const deployments = await record(store, 'deployment');
        const entities = await record(store, 'entities');
        const stays = await record(store, 'entities');
        await store.changes.publish('entities', 'key-revoked:1');
        await waitFor(() => entities.received.length === 1 && stays.received.length === 1, 'entities notification');

        await entities.unsubscribe();
        await entities.unsubscribe(); // idempotent
        await store.changes.publish('entities', 'key-revoked:2');
        await store.changes.publish('deployment', 'marker');
        // Notifications arrive in publish order, so once the marker is in, nothing else is on its way.
        await waitFor(() => deployments.received.length === 1 && stays.received.length === 2, 'marker');
        assert.deepEqual(deployments.received, ['marker']);
        assert.deepEqual(entities.received, ['key-revoked:1']);
        assert.deepEqual(stays.received, ['key-revoked:1', 'key-revoked:2']);
      });

      test('a store on another location hears nothing', async () => {
        const namespace = freshNamespace();
        const publisher = await open(namespace);
        const sameLocation = await record(await open(namespace), 'deployment');
        const elsewhere = await fresh();
        const other = await record(elsewhere, 'deployment');
        await publisher.changes.publish('deployment', 'for-namespace-only');
        await waitFor(() => sameLocation.received.length === 1, 'delivery on the same location');
        await elsewhere.changes.publish('deployment', 'marker');
        await waitFor(() => other.received.length >= 1, 'marker on the other location');
        assert.deepEqual(other.received, ['marker']);
        assert.deepEqual(sameLocation.received, ['for-namespace-only']);
      });

      test('a throwing listener does not stop the others', async () => {
        const store = await fresh();
        const warnings: Error[] = [];
        const onWarning = (w: Error & { code?: string }) => {
          if (w.code === 'PORTCULLIS_CHANGE_LISTENER') warnings.push(w);
        };
        process.on('warning', onWarning);
        try {
          await store.changes.subscribe('deployment', () => {
            throw new Error('listener bug');
          });
          const ok = await record(store, 'deployment');
          await store.changes.publish('deployment', 'p');
          await waitFor(() => ok.received.length === 1 && warnings.length === 1, 'delivery and warning');
          assert.match(warnings[0].message, /listener bug/);
        } finally {
          process.off('warning', onWarning);
        }
      });

      test('payloads are checked: known channels only, small strings', async () => {
        const store = await fresh();
        await assert.rejects(store.changes.publish('nope' as ChangeChannel, 'x'), /channel must be one of/);
        await assert.rejects(store.changes.subscribe('nope' as ChangeChannel, () => {}), /channel must be one of/);
        await assert.rejects(store.changes.publish('entities', 'x'.repeat(5000)), RangeError);
        const heard = await record(store, 'entities');
        await store.changes.publish('entities', '');
        await store.changes.publish('entities', 'ünïcödé');
        await waitFor(() => heard.received.length === 2, 'two notifications');
        assert.deepEqual(heard.received, ['', 'ünïcödé']);
      });
    });

    describe('lifecycle', () => {
      test('opening the same location again (even concurrently) keeps the data and migrates once', async () => {
        const namespace = freshNamespace();
        const first = await open(namespace);
        await first.revisions.create(newRevision('kept'));
        await first.meta.set('k', 'v');
        await first.close();
        const reopened = await Promise.all([open(namespace), open(namespace), open(namespace)]);
        for (const store of reopened) {
          assert.equal((await store.revisions.get(1))?.source, 'kept');
          assert.equal(await store.meta.get('k'), 'v');
        }
        const concurrentFresh = freshNamespace();
        const racers = await Promise.all([open(concurrentFresh), open(concurrentFresh), open(concurrentFresh)]);
        const rev = await racers[0].revisions.create(newRevision('after a racy first open'));
        assert.equal(rev.number, 1);
        assert.equal((await racers[2].revisions.get(1))?.source, 'after a racy first open');
      });

      test('ping answers while open; close is idempotent and later calls fail', async () => {
        const store = await fresh();
        assert.ok(store.kind === 'sqlite' || store.kind === 'postgres');
        assert.equal(typeof store.location, 'string');
        await store.ping();
        await store.close();
        await store.close();
        await assert.rejects(store.ping(), /closed/);
        await assert.rejects(store.revisions.list(), /closed/);
        await assert.rejects(store.changes.subscribe('deployment', () => {}), /closed/);
      });
    });
  });
}
