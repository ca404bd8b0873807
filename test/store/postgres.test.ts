// Runs the Store contract against the PostgreSQL adapter on a real server (one throwaway schema per
// namespace) and checks what only PostgreSQL has: schemas, cross-process numbering, LISTEN reconnection.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { POSTGRES_MIGRATIONS, applyPostgresMigrations } from '../../src/store/postgres/migrations.ts';
import { notifyChannelName, quoteIdentifier } from '../../src/store/postgres/pg-names.ts';
import type { Store } from '../../src/store/ports.ts';
import { createTestSchemas, requirePostgres, TEST_PG_URL } from './pg-test-env.ts';
import { newRevision, record, runStoreContract, waitFor } from './store-contract.ts';

if (await requirePostgres('postgres store')) {
  const schemas = createTestSchemas();
  after(() => schemas.dropAll());

  runStoreContract('postgres', (namespace, { clock }) =>
    createPostgresStore({ url: TEST_PG_URL, schema: schemas.name(namespace), clock, poolSize: 4 }),
  );

  describe('PostgreSQL store specifics', () => {
    async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    }

    test('keeps every table in its own schema, records each migration once, forbids updating revisions', async () => {
      const schema = schemas.name('layout');
      for (let i = 0; i < 2; i++) await (await createPostgresStore({ url: TEST_PG_URL, schema, poolSize: 2 })).close();
      const store = await createPostgresStore({ url: TEST_PG_URL, schema, poolSize: 2 });
      try {
        await store.revisions.create(newRevision('a'));
        await withAdmin(async (admin) => {
          const tables = await admin.query<{ table_name: string }>(
            'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
            [schema],
          );
          assert.deepEqual(
            tables.rows.map((r) => r.table_name),
            [
              'admin_tokens', 'api_key_changes', 'api_key_subscriptions', 'api_key_usage', 'api_key_version', 'api_keys', 'audit_digests',
              'audit_events', 'deployments', 'iam_access_keys', 'iam_policies', 'iam_principal_policies', 'iam_principals',
              'iam_version', 'meta', 'revisions', 'schema_migrations',
            ],
          );
          const q = quoteIdentifier(schema);
          const versions = await admin.query<{ version: number }>(`SELECT version FROM ${q}.schema_migrations ORDER BY version`);
          assert.deepEqual(
            versions.rows.map((r) => r.version),
            POSTGRES_MIGRATIONS.map((m) => m.version),
          );
          await assert.rejects(admin.query(`UPDATE ${q}.revisions SET source = 'x' WHERE number = 1`), /immutable/);
          await assert.rejects(
            admin.query(`INSERT INTO ${q}.deployments (revision, deployed_at) VALUES (99, now())`),
            /foreign key/,
          );
        });
      } finally {
        await store.close();
      }
    });

    test('migration 6 keeps 4 characters of a stored hint: pck_abcd stays, an imported key\'s AbCdEfGh becomes AbCd', async () => {
      const schema = schemas.name('hints');
      const q = quoteIdentifier(schema);
      await withAdmin(async (admin) => {
        await applyPostgresMigrations(admin, schema, q, '2026-01-01T00:00:00.000Z', POSTGRES_MIGRATIONS.slice(0, 5));
        for (const [id, hint] of [['kgen', 'pck_abcd'], ['kimp', 'AbCdEfGh']]) {
          await admin.query(
            `INSERT INTO ${q}.api_keys (id, name, description, customer_id, tags, enabled, created_at, updated_at, expires_at, hash, hint)
             VALUES ($1, $1, '', NULL, '{}', true, now(), now(), NULL, $1, $2)`,
            [id, hint],
          );
        }
        assert.deepEqual(await applyPostgresMigrations(admin, schema, q, '2026-01-02T00:00:00.000Z'), [6]);
        const { rows } = await admin.query(`SELECT id, hint FROM ${q}.api_keys ORDER BY id`);
        assert.deepEqual(rows, [{ id: 'kgen', hint: 'pck_abcd' }, { id: 'kimp', hint: 'AbCd' }]);
      });
    });

    test('refuses a schema migrated by a newer build', async () => {
      const schema = schemas.name('newer');
      await (await createPostgresStore({ url: TEST_PG_URL, schema, poolSize: 1 })).close();
      await withAdmin((admin) =>
        admin.query(
          `INSERT INTO ${quoteIdentifier(schema)}.schema_migrations (version, name, applied_at) VALUES (999, 'future', now())`,
        ),
      );
      await assert.rejects(createPostgresStore({ url: TEST_PG_URL, schema, poolSize: 1 }), /version 999, newer than this Portcullis/);
    });

    test('two processes creating revisions at once (and racing on migrations) get distinct numbers', async () => {
      const schema = schemas.name('processes');
      const fixture = fileURLToPath(new URL('./fixtures/create-revisions.ts', import.meta.url));
      const runChild = (tag: string) =>
        new Promise<number[]>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', fixture, TEST_PG_URL, schema, '10', tag], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          let errors = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (errors += d));
          child.on('error', reject);
          child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child ${tag} exited ${code}: ${errors}`))));
        });
      const [a, b] = await Promise.all([runChild('a'), runChild('b')]);
      const numbers = [...a, ...b];
      assert.equal(numbers.length, 20);
      assert.equal(new Set(numbers).size, 20, `numbers were ${numbers.join(',')}`);
      const store = await createPostgresStore({ url: TEST_PG_URL, schema, poolSize: 1 });
      try {
        assert.equal((await store.revisions.list()).length, 20);
      } finally {
        await store.close();
      }
    });

    test('works with schema names that need quoting and with names too long to prefix a channel', async () => {
      const odd = schemas.name('Odd "Name"; DROP');
      const long = schemas.name('x'.repeat(63 - schemas.name('').length));
      assert.equal(Buffer.byteLength(long), 63);
      assert.ok(!notifyChannelName(long, 'deployment').startsWith(long), 'a 63-byte schema cannot prefix a channel');
      for (const schema of [odd, long]) {
        const a = await createPostgresStore({ url: TEST_PG_URL, schema, poolSize: 2 });
        const b = await createPostgresStore({ url: TEST_PG_URL, schema, poolSize: 2 });
        try {
          assert.equal((await a.revisions.create(newRevision(schema))).number, 1);
          assert.equal((await b.revisions.get(1))?.source, schema);
          const heard = await record(a, 'entities');
          await b.changes.publish('entities', 'hello');
          await waitFor(() => heard.received.length === 1, `notification on schema ${schema}`);
        } finally {
          await a.close();
          await b.close();
        }
      }
      await assert.rejects(createPostgresStore({ url: TEST_PG_URL, schema: 'x'.repeat(64) }), RangeError);
    });

    test('the listener reconnects by itself after losing its connection and listens again', async () => {
      const schema = schemas.name('reconnect');
      const statuses: string[] = [];
      let subscriber: Store | undefined;
      let publisher: Store | undefined;
      try {
        subscriber = await createPostgresStore({
          url: TEST_PG_URL,
          schema,
          poolSize: 1,
          onNotifierStatus: (status) => statuses.push(status),
        });
        publisher = await createPostgresStore({ url: TEST_PG_URL, schema, poolSize: 1 });
        const heard = await record(subscriber, 'deployment');
        const alsoHeard = await record(subscriber, 'entities');
        assert.deepEqual(statuses, ['connected']);

        const terminated = await withAdmin(async (admin) => {
          const { rows } = await admin.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity
             WHERE application_name = 'portcullis-listen' AND datname = current_database()
               AND position($1 in query) > 0`,
            [schema],
          );
          for (const { pid } of rows) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          return rows.length;
        });
        assert.ok(terminated >= 1, 'found the listener connection');

        await waitFor(() => statuses.length >= 3, 'disconnect and reconnect');
        assert.deepEqual(statuses.slice(0, 1), ['connected']);
        assert.equal(statuses[1], 'disconnected');
        assert.equal(statuses.at(-1), 'connected');

        await publisher.changes.publish('deployment', 'after-reconnect');
        await publisher.changes.publish('entities', 'entities-too');
        await waitFor(() => heard.received.includes('after-reconnect'), 'delivery after reconnect');
        await waitFor(() => alsoHeard.received.includes('entities-too'), 'every channel listened again');
      } finally {
        await subscriber?.close();
        await publisher?.close();
      }
    });

    test('reports an unreachable server with its location and without the password', async () => {
      await assert.rejects(
        createPostgresStore({ url: 'postgres://someone:hunter2@127.0.0.1:1/nowhere', connectTimeoutMs: 2000 }),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.match(err.message, /cannot open the PostgreSQL store at postgres:\/\/127\.0\.0\.1:1\/nowhere\?schema=public/);
          assert.match(err.message, /ECONNREFUSED/);
          assert.doesNotMatch(err.message, /hunter2|someone/);
          return true;
        },
      );
    });

    test('location names host, database and schema, never credentials', async () => {
      const url = new URL(TEST_PG_URL);
      url.password = 'not-checked-by-trust-auth';
      url.searchParams.set('application_name', 'x');
      const store = await createPostgresStore({ url: url.toString(), schema: schemas.name('loc'), poolSize: 1 });
      try {
        assert.equal(store.kind, 'postgres');
        assert.equal(store.location, `postgres://${url.host}${url.pathname}?schema=${schemas.name('loc')}`);
        assert.doesNotMatch(store.location, /not-checked|application_name|@/);
      } finally {
        await store.close();
      }
    });
  });
}
