// A throwaway PostgreSQL schema for tests that share one database between gateway nodes: checks the
// server is there (a clear failure, never a silent skip), hands out the storage URL, drops it after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.PORTCULLIS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** The `storage:` setting that puts a node's tables in this schema. */
  readonly storage: string;
  readonly name: string;
  /** DROP SCHEMA … CASCADE. */
  drop(): Promise<void>;
}

/** Fails with a message naming the URL when PostgreSQL is not reachable. */
export async function requirePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect().catch((err: Error) => {
    throw new Error(`PostgreSQL is required for this test at ${PG_URL}: ${err.message}`);
  });
  await client.end();
}

/** A fresh schema name with the given prefix (`pc_test_<prefix>_<random>`), after checking PostgreSQL is up. */
export async function createTestSchema(prefix: string): Promise<TestSchema> {
  await requirePostgres();
  const name = `pc_test_${prefix}_${randomBytes(4).toString('hex')}`;
  return {
    name,
    storage: `${PG_URL}?schema=${name}`,
    async drop() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await client.end();
    },
  };
}
