// The PostgreSQL server the store tests use (PORTCULLIS_TEST_PG_URL or the local test database), a
// reachability probe whose failure is reported as a failing test, and throwaway pc_test_<random> schemas.
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { describeError, quoteIdentifier } from '../../src/store/postgres/pg-names.ts';

export const TEST_PG_URL = process.env.PORTCULLIS_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Resolves to true when the server answers. Otherwise registers a failing test that says why and how to fix
 * it: these tests must never pass by skipping.
 */
export async function requirePostgres(suite: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (err) {
    const reason = describeError(err);
    test(`${suite}: PostgreSQL must be reachable`, () => {
      throw new Error(
        `PostgreSQL is not reachable at ${TEST_PG_URL.replace(/:[^:@/]*@/, ':***@')} (${reason}). ` +
          'Start it, or point PORTCULLIS_TEST_PG_URL at a server where the test role may create schemas.',
      );
    });
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Schemas named `pc_test_<random>...` for one test run, all dropped by `dropAll`. */
export function createTestSchemas() {
  const prefix = `pc_test_${randomBytes(5).toString('hex')}`;
  return {
    prefix,
    name: (suffix: string) => `${prefix}_${suffix}`,
    async dropAll(): Promise<void> {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        const { rows } = await client.query<{ nspname: string }>(
          "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)",
          [prefix],
        );
        for (const { nspname } of rows) await client.query(`DROP SCHEMA ${quoteIdentifier(nspname)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
