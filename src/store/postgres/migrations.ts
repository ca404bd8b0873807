// Versioned schema of the PostgreSQL store: ordered SQL steps, each written against a quoted schema name,
// applied once under a transaction-scoped advisory lock so gateway nodes starting together do not race.
import type pg from 'pg';
import { checkMigrationList, pendingMigrations } from '../migration-plan.ts';
import { postgresApiKeysSql, postgresKeyChangesSql, postgresShorterHintsSql } from './api-keys.ts';
import { postgresIamSql } from './iam.ts';
import { postgresAuditSql } from './audit.ts';

export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  /** SQL for the step, given the already-quoted schema identifier. */
  sql(schema: string): string;
}

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = Object.freeze([
  {
    version: 1,
    name: 'revisions-deployments-admin-tokens-meta',
    sql: (s: string) => `
      -- An identity column is a sequence: numbers stay unique across concurrent transactions from any number
      -- of processes without a table lock; a rolled-back create leaves a gap, which the port allows.
      CREATE TABLE ${s}.revisions (
        number      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        created_at  timestamptz NOT NULL,
        sha256      text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        format      text        NOT NULL CHECK (format IN ('yaml', 'json')),
        size_bytes  integer     NOT NULL CHECK (size_bytes >= 0),
        comment     text,
        created_by  text,
        source      text        NOT NULL
      );

      -- Revisions are immutable: a deployed revision must always mean the same configuration.
      CREATE FUNCTION ${s}.revisions_reject_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'revisions are immutable' USING ERRCODE = 'restrict_violation';
      END
      $$;
      CREATE TRIGGER revisions_immutable BEFORE UPDATE ON ${s}.revisions
        FOR EACH ROW EXECUTE FUNCTION ${s}.revisions_reject_update();

      CREATE TABLE ${s}.deployments (
        id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        revision     bigint      NOT NULL REFERENCES ${s}.revisions (number),
        deployed_at  timestamptz NOT NULL,
        deployed_by  text
      );
      CREATE INDEX deployments_revision ON ${s}.deployments (revision);

      CREATE TABLE ${s}.admin_tokens (
        id            text        PRIMARY KEY,
        name          text        NOT NULL,
        role          text        NOT NULL CHECK (role IN ('admin', 'operator', 'read-only')),
        hash          text        NOT NULL CONSTRAINT admin_tokens_hash_key UNIQUE,
        hint          text        NOT NULL,
        created_at    timestamptz NOT NULL,
        revoked_at    timestamptz,
        last_used_at  timestamptz
      );

      CREATE TABLE ${s}.meta (
        key    text PRIMARY KEY,
        value  text NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'api-keys-subscriptions-usage',
    sql: postgresApiKeysSql,
  },
  {
    version: 3,
    name: 'iam-principals-policies-access-keys',
    sql: postgresIamSql,
  },
  {
    version: 4,
    name: 'audit-events-digests',
    sql: postgresAuditSql,
  },
  {
    version: 5,
    name: 'api-key-change-log',
    sql: postgresKeyChangesSql,
  },
  {
    version: 6,
    name: 'api-key-hints-four-characters',
    sql: postgresShorterHintsSql,
  },
]);

/** Two int4 halves of the advisory lock key: a fixed "PCLS" class, then a hash of the schema name. */
const LOCK_CLASS = 0x50434c53;

/**
 * Creates the schema if missing and applies the missing steps, all in one transaction holding
 * pg_advisory_xact_lock for this schema (released by COMMIT/ROLLBACK, so a crash cannot leave it held).
 * Returns the versions applied now.
 */
export async function applyPostgresMigrations(
  client: pg.ClientBase,
  schemaName: string,
  quotedSchema: string,
  appliedAt: string,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<number[]> {
  checkMigrationList(migrations);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::int4, hashtext($2))', [LOCK_CLASS, schemaName]);
    // Checked first: CREATE SCHEMA IF NOT EXISTS still demands CREATE on the database, which a
    // least-privilege role given an existing schema may not have.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schemaName]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quotedSchema}`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${quotedSchema}.schema_migrations (
        version     integer     PRIMARY KEY,
        name        text        NOT NULL,
        applied_at  timestamptz NOT NULL
      )`);
    const done = await client.query<{ version: number; name: string }>(
      `SELECT version, name FROM ${quotedSchema}.schema_migrations ORDER BY version`,
    );
    const pending = pendingMigrations(migrations, done.rows, `PostgreSQL schema ${schemaName}`);
    for (const step of pending) {
      await client.query(step.sql(quotedSchema));
      await client.query(`INSERT INTO ${quotedSchema}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [
        step.version,
        step.name,
        appliedAt,
      ]);
    }
    await client.query('COMMIT');
    return pending.map((m) => m.version);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
