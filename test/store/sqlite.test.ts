// Runs the Store contract against the SQLite adapter (one file per namespace in a temporary directory) and
// checks what only SQLite has: file permissions, WAL, persistence across reopen, migration bookkeeping.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createFakeClock } from '../../src/core/clock.ts';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SQLITE_MIGRATIONS, applySqliteMigrations } from '../../src/store/sqlite/migrations.ts';
import { newRevision, record, runStoreContract, sha256, waitFor } from './store-contract.ts';

const root = mkdtempSync(join(tmpdir(), 'pc-sqlite-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

// Each namespace gets its own not-yet-existing directory, so every open also exercises directory creation.
runStoreContract('sqlite', (namespace, { clock }) => createSqliteStore({ file: join(root, 'contract', namespace, 'store.db'), clock }));

describe('SQLite store specifics', () => {
  test('creates missing parent directories with mode 0700 and the file with mode 0600', async () => {
    const file = join(root, 'made', 'deep', 'er', 'portcullis.db');
    const store = await createSqliteStore({ file });
    try {
      assert.equal(store.kind, 'sqlite');
      assert.equal(store.location, file);
      assert.equal(statSync(join(root, 'made')).mode & 0o777, 0o700);
      assert.equal(statSync(join(root, 'made', 'deep', 'er')).mode & 0o777, 0o700);
      assert.equal(statSync(file).mode & 0o777, 0o600);
    } finally {
      await store.close();
    }
  });

  test('data persists in the file across close and reopen', async () => {
    const file = join(root, 'persist', 'p.db');
    const clock = createFakeClock();
    const first = await createSqliteStore({ file, clock });
    await first.revisions.create(newRevision('persisted: true\n', { comment: 'c' }));
    await first.deployments.activate(1, 'alice');
    await first.adminTokens.create({
      id: 'tok_1',
      name: 'ci',
      role: 'operator',
      hash: sha256('s'),
      hint: 'pcat_abc',
      createdAt: new Date(clock.now()).toISOString(),
    });
    await first.adminTokens.revoke('tok_1', '2026-01-05T00:00:00.000Z');
    await first.meta.set('secret', 'xyz');
    await first.close();

    const second = await createSqliteStore({ file, clock });
    try {
      assert.equal((await second.revisions.get(1))?.source, 'persisted: true\n');
      assert.equal((await second.deployments.current())?.revision, 1);
      assert.equal((await second.adminTokens.get('tok_1'))?.revokedAt, '2026-01-05T00:00:00.000Z');
      assert.equal(await second.meta.get('secret'), 'xyz');
      assert.equal((await second.revisions.create(newRevision('next'))).number, 2);
    } finally {
      await second.close();
    }
  });

  test('uses WAL and foreign keys, records each migration once, and forbids updating revisions', async () => {
    const file = join(root, 'pragmas', 'p.db');
    for (let i = 0; i < 3; i++) await (await createSqliteStore({ file })).close();
    const store = await createSqliteStore({ file });
    await store.revisions.create(newRevision('a'));
    const db = new Database(file);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
      assert.deepEqual(
        versions,
        SQLITE_MIGRATIONS.map((m) => m.version),
      );
      assert.throws(() => db.prepare("UPDATE revisions SET source = 'x' WHERE number = 1").run(), /immutable/);
      db.pragma('foreign_keys = ON');
      assert.throws(
        () => db.prepare("INSERT INTO deployments (revision, deployed_at) VALUES (99, '2026-01-01T00:00:00.000Z')").run(),
        /FOREIGN KEY/,
      );
    } finally {
      db.close();
      await store.close();
    }
  });

  test('migration 6 keeps 4 characters of a stored hint: pck_abcd stays, an imported key\'s AbCdEfGh becomes AbCd', () => {
    const db = new Database(':memory:');
    try {
      applySqliteMigrations(db, '2026-01-01T00:00:00.000Z', SQLITE_MIGRATIONS.slice(0, 5));
      const insert = db.prepare(
        "INSERT INTO api_keys (id, name, description, customer_id, tags, enabled, created_at, updated_at, expires_at, hash, hint) VALUES (?, ?, '', NULL, '{}', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', NULL, ?, ?)",
      );
      insert.run('kgen', 'generated', 'h1', 'pck_abcd');
      insert.run('kimp', 'imported', 'h2', 'AbCdEfGh');
      assert.deepEqual(applySqliteMigrations(db, '2026-01-02T00:00:00.000Z'), [6]);
      assert.deepEqual(db.prepare('SELECT id, hint FROM api_keys ORDER BY id').all(), [{ id: 'kgen', hint: 'pck_abcd' }, { id: 'kimp', hint: 'AbCd' }]);
    } finally {
      db.close();
    }
  });

  test('a failing migration step rolls the whole run back', () => {
    const db = new Database(':memory:');
    try {
      const steps = [
        { version: 1, name: 'one', sql: 'CREATE TABLE t1 (x INTEGER)' },
        { version: 2, name: 'two', sql: 'CREATE TABLE t2 (x INTEGER); THIS IS NOT SQL' },
      ];
      assert.throws(() => applySqliteMigrations(db, '2026-01-01T00:00:00.000Z', steps), /syntax error/);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
      assert.deepEqual(tables, []);
      assert.deepEqual(applySqliteMigrations(db, '2026-01-01T00:00:00.000Z', steps.slice(0, 1)), [1]);
      assert.deepEqual(applySqliteMigrations(db, '2026-01-01T00:00:00.000Z', steps.slice(0, 1)), []);
      assert.throws(() => applySqliteMigrations(db, '2026-01-01T00:00:00.000Z', [steps[1], steps[0]]), /out of order/);
    } finally {
      db.close();
    }
  });

  test('refuses a database migrated by a newer build', async () => {
    const file = join(root, 'newer', 'n.db');
    await (await createSqliteStore({ file })).close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', '2030-01-01')").run();
    db.close();
    await assert.rejects(createSqliteStore({ file }), /schema is at version 999, newer than this Portcullis build/);
  });

  test(':memory: stores are private to their instance', async () => {
    const a = await createSqliteStore({ file: ':memory:' });
    const b = await createSqliteStore({ file: ':memory:' });
    try {
      assert.equal(a.location, ':memory:');
      await a.revisions.create(newRevision('only in a'));
      assert.equal(await b.revisions.get(1), undefined);
      const heardByB = await record(b, 'deployment');
      const heardByA = await record(a, 'deployment');
      await a.changes.publish('deployment', 'x');
      await b.changes.publish('deployment', 'marker');
      await waitFor(() => heardByA.received.length === 1 && heardByB.received.length === 1, 'deliveries');
      assert.deepEqual(heardByB.received, ['marker']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a closed store stops delivering to its subscribers', async () => {
    const file = join(root, 'closing', 'c.db');
    const a = await createSqliteStore({ file });
    const b = await createSqliteStore({ file });
    const heardByA = await record(a, 'entities');
    const heardByB = await record(b, 'entities');
    await a.close();
    await b.changes.publish('entities', 'after-close');
    await waitFor(() => heardByB.received.length === 1, 'delivery to the open store');
    assert.deepEqual(heardByA.received, []);
    await b.close();
  });
});
