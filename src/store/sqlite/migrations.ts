// Versioned schema of the SQLite store: an ordered list of SQL steps, applied once each and recorded in
// schema_migrations. Never edit a released step; append a new one.
import type Database from 'better-sqlite3';
import { checkMigrationList, pendingMigrations } from '../migration-plan.ts';
import { SQLITE_API_KEYS_SQL, SQLITE_KEY_CHANGES_SQL, SQLITE_SHORTER_HINTS_SQL } from './api-keys.ts';
import { SQLITE_IAM_SQL } from './iam.ts';
import { SQLITE_AUDIT_SQL } from './audit.ts';

export interface SqliteMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

// STRICT tables make SQLite enforce column types like the PostgreSQL adapter does.
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = Object.freeze([
  {
    version: 1,
    name: 'revisions-deployments-admin-tokens-meta',
    sql: `
      CREATE TABLE revisions (
        -- AUTOINCREMENT (not just INTEGER PRIMARY KEY) so a number is never handed out twice.
        number      INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at  TEXT    NOT NULL,
        sha256      TEXT    NOT NULL CHECK (length(sha256) = 64),
        format      TEXT    NOT NULL CHECK (format IN ('yaml', 'json')),
        size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),
        comment     TEXT,
        created_by  TEXT,
        source      TEXT    NOT NULL
      ) STRICT;

      -- Revisions are immutable: a deployed revision must always mean the same configuration.
      CREATE TRIGGER revisions_immutable BEFORE UPDATE ON revisions
      BEGIN
        SELECT RAISE(ABORT, 'revisions are immutable');
      END;

      CREATE TABLE deployments (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        revision     INTEGER NOT NULL REFERENCES revisions (number),
        deployed_at  TEXT    NOT NULL,
        deployed_by  TEXT
      ) STRICT;
      CREATE INDEX deployments_revision ON deployments (revision);

      CREATE TABLE admin_tokens (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'read-only')),
        hash          TEXT NOT NULL UNIQUE,
        hint          TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        revoked_at    TEXT,
        last_used_at  TEXT
      ) STRICT;

      CREATE TABLE meta (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'api-keys-subscriptions-usage',
    sql: SQLITE_API_KEYS_SQL,
  },
  {
    version: 3,
    name: 'iam-principals-policies-access-keys',
    sql: SQLITE_IAM_SQL,
  },
  {
    version: 4,
    name: 'audit-events-digests',
    sql: SQLITE_AUDIT_SQL,
  },
  {
    version: 5,
    name: 'api-key-change-log',
    sql: SQLITE_KEY_CHANGES_SQL,
  },
  {
    version: 6,
    name: 'api-key-hints-four-characters',
    sql: SQLITE_SHORTER_HINTS_SQL,
  },
]);

/**
 * Applies the missing steps in one IMMEDIATE transaction (it takes the write lock up front, so two processes
 * opening the same file serialise instead of both trying to migrate). Returns the versions applied now.
 */
export function applySqliteMigrations(
  db: Database.Database,
  appliedAt: string,
  migrations: readonly SqliteMigration[] = SQLITE_MIGRATIONS,
): number[] {
  checkMigrationList(migrations);
  const run = db.transaction((): number[] => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version     INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        applied_at  TEXT NOT NULL
      ) STRICT
    `);
    const done = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as {
      version: number;
      name: string;
    }[];
    const pending = pendingMigrations(migrations, done, 'SQLite database');
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const step of pending) {
      db.exec(step.sql);
      record.run(step.version, step.name, appliedAt);
    }
    return pending.map((m) => m.version);
  });
  return run.immediate();
}
