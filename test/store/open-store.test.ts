// Checks how the store setting is read: the SQLite forms, PostgreSQL URLs with ?schema=, and the error for
// anything else (which must name the setting, list the accepted forms and never echo a password).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createFakeClock } from '../../src/core/clock.ts';
import { openStore, parseStoreSpec } from '../../src/store/open-store.ts';
import { createTestSchemas, requirePostgres, TEST_PG_URL } from './pg-test-env.ts';
import { newRevision } from './store-contract.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pc-open-store-test-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

describe('parseStoreSpec', () => {
  test('"sqlite" and "sqlite:" mean the default file in the data directory', () => {
    for (const spec of ['sqlite', 'sqlite:', ' SQLite ']) {
      assert.deepEqual(parseStoreSpec(spec, { dataDir: 'state' }), { kind: 'sqlite', file: resolve('state', 'portcullis.db') });
    }
  });

  test('"sqlite:<path>" takes absolute paths, relative ones from the working directory, and :memory:', () => {
    assert.deepEqual(parseStoreSpec('sqlite:/var/lib/pc/gw.db', { dataDir }), { kind: 'sqlite', file: '/var/lib/pc/gw.db' });
    assert.deepEqual(parseStoreSpec('sqlite:data/gw.db', { dataDir }), { kind: 'sqlite', file: resolve('data/gw.db') });
    assert.deepEqual(parseStoreSpec('sqlite::memory:', { dataDir }), { kind: 'sqlite', file: ':memory:' });
  });

  test('PostgreSQL URLs lose ?schema= (default public) and keep everything else', () => {
    assert.deepEqual(parseStoreSpec('postgres://u:p@db.internal:5433/gw?schema=tenant_a&sslmode=require', { dataDir }), {
      kind: 'postgres',
      url: 'postgres://u:p@db.internal:5433/gw?sslmode=require',
      schema: 'tenant_a',
    });
    assert.deepEqual(parseStoreSpec('postgresql://db/gw', { dataDir }), {
      kind: 'postgres',
      url: 'postgresql://db/gw',
      schema: 'public',
    });
    assert.throws(() => parseStoreSpec('postgres://db/gw?schema=', { dataDir }), /at most one non-empty \?schema=/);
    assert.throws(() => parseStoreSpec('postgres://db/gw?schema=a&schema=b', { dataDir }), /at most one/);
  });

  test('anything else names the setting and the accepted forms, without repeating a password', () => {
    for (const spec of ['mysql://root:hunter2@db/gw', 'redis://db', '', '/var/lib/gw.db', 'sqlite3:x.db']) {
      assert.throws(
        () => parseStoreSpec(spec, { dataDir, settingName: '--store' }),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.match(err.message, /^the --store setting /);
          assert.match(err.message, /"sqlite"/);
          assert.match(err.message, /"sqlite:<path>"/);
          assert.match(err.message, /postgres:\/\//);
          assert.doesNotMatch(err.message, /hunter2/);
          return true;
        },
      );
    }
    assert.throws(() => parseStoreSpec('ftp://x', { dataDir }), /^Error: the store setting/);
  });
});

describe('openStore', () => {
  test('opens the default SQLite file in the data directory', async () => {
    const store = await openStore('sqlite', { dataDir: join(dataDir, 'nested'), clock: createFakeClock() });
    try {
      assert.equal(store.kind, 'sqlite');
      assert.equal(store.location, join(dataDir, 'nested', 'portcullis.db'));
      assert.ok(existsSync(store.location));
      await store.ping();
    } finally {
      await store.close();
    }
  });

  test('opens a throwaway in-memory SQLite database', async () => {
    const store = await openStore('sqlite::memory:', { dataDir });
    try {
      assert.equal(store.location, ':memory:');
      assert.equal((await store.revisions.create(newRevision('m'))).number, 1);
    } finally {
      await store.close();
    }
  });

  test('rejects an unknown scheme before touching anything', async () => {
    await assert.rejects(openStore('mongodb://db', { dataDir }), /the store setting "mongodb:\/\/db" is not a store location/);
  });
});

if (await requirePostgres('openStore')) {
  const schemas = createTestSchemas();
  after(() => schemas.dropAll());

  describe('openStore with PostgreSQL', () => {
    test('opens the schema named in ?schema= and never shows the password', async () => {
      const url = new URL(TEST_PG_URL);
      url.password = 'trust-auth-ignores-me';
      url.searchParams.set('schema', schemas.name('open'));
      const store = await openStore(url.toString(), { dataDir, clock: createFakeClock() });
      try {
        assert.equal(store.kind, 'postgres');
        assert.equal(store.location, `postgres://${url.host}${url.pathname}?schema=${schemas.name('open')}`);
        assert.doesNotMatch(store.location, /trust-auth-ignores-me/);
        assert.equal((await store.revisions.create(newRevision('pg'))).number, 1);
      } finally {
        await store.close();
      }
    });
  });
}
