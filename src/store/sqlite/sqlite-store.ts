// The default Store: one SQLite file through better-sqlite3 (WAL, foreign keys, versioned migrations), with
// in-process change notification because SQLite mode runs a single gateway node.
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { systemClock, type Clock } from '../../core/clock.ts';
import {
  checkChannel,
  checkLimit,
  checkMetaKey,
  checkMetaValue,
  checkNewAdminToken,
  checkNewRevision,
  checkPayload,
  checkRevisionNumber,
  dispatch,
  hasErrorCode,
  isoNow,
  normalizeTimestamp,
} from '../adapter-kit.ts';
import {
  StoreConflictError,
  StoreNotFoundError,
  type AdminRole,
  type AdminTokenRecord,
  type ChangeChannel,
  type DefinitionFormat,
  type DeploymentRecord,
  type RevisionRecord,
  type RevisionSummary,
  type Store,
} from '../ports.ts';
import { applySqliteMigrations } from './migrations.ts';
import { createSqliteApiKeyStore } from './api-keys.ts';
import { createSqliteIamStore } from './iam.ts';
import { createSqliteAuditStore } from './audit.ts';

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created, mode 0700), or ':memory:' for tests. */
  readonly file: string;
  readonly clock?: Clock;
  /** How long a statement waits for another process's write lock before failing. */
  readonly busyTimeoutMs?: number;
}

interface RevisionRow {
  number: number;
  created_at: string;
  sha256: string;
  format: DefinitionFormat;
  size_bytes: number;
  comment: string | null;
  created_by: string | null;
  source?: string;
}

interface DeploymentRow {
  id: number;
  revision: number;
  deployed_at: string;
  deployed_by: string | null;
}

interface AdminTokenRow {
  id: string;
  name: string;
  role: AdminRole;
  hash: string;
  hint: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

const SUMMARY_COLUMNS = 'number, created_at, sha256, format, size_bytes, comment, created_by';
const TOKEN_COLUMNS = 'id, name, role, hash, hint, created_at, revoked_at, last_used_at';

// Stores opened on the same file in one process share one emitter, so they hear each other as two
// PostgreSQL-backed stores would; ':memory:' databases are private and get their own.
const sharedEmitters = new Map<string, { emitter: EventEmitter; users: number }>();

function acquireEmitter(key: string | undefined): { emitter: EventEmitter; release(): void } {
  if (key === undefined) return { emitter: new EventEmitter().setMaxListeners(0), release() {} };
  let entry = sharedEmitters.get(key);
  if (!entry) {
    entry = { emitter: new EventEmitter().setMaxListeners(0), users: 0 };
    sharedEmitters.set(key, entry);
  }
  entry.users += 1;
  const held = entry;
  let released = false;
  return {
    emitter: held.emitter,
    release() {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users === 0) sharedEmitters.delete(key);
    },
  };
}

export async function createSqliteStore({ file, clock = systemClock, busyTimeoutMs = 5000 }: SqliteStoreOptions): Promise<Store> {
  if (typeof file !== 'string' || file.length === 0) throw new TypeError('SQLite store file must be a non-empty path or ":memory:"');
  const inMemory = file === ':memory:';
  const path = inMemory ? file : resolve(file);
  if (!inMemory) {
    // The file holds admin token hashes: keep the directory private and create the file owner-only
    // (SQLite gives the -wal and -shm files the same mode as the database file).
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
  }

  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    db.pragma('foreign_keys = ON');
    // FULL, not NORMAL: a revoked admin token must stay revoked after a power loss.
    db.pragma('synchronous = FULL');
    applySqliteMigrations(db, isoNow(clock));
  } catch (err) {
    db.close();
    throw err;
  }

  const sql = {
    insertRevision: db.prepare<[string, string, string, number, string | null, string | null, string], { number: number }>(
      `INSERT INTO revisions (created_at, sha256, format, size_bytes, comment, created_by, source)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING number`,
    ),
    getRevision: db.prepare<[number], RevisionRow>(`SELECT ${SUMMARY_COLUMNS}, source FROM revisions WHERE number = ?`),
    listRevisions: db.prepare<[number, number], RevisionRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM revisions WHERE number < ? ORDER BY number DESC LIMIT ?`,
    ),
    revisionExists: db.prepare<[number], { one: number }>('SELECT 1 AS one FROM revisions WHERE number = ?'),
    insertDeployment: db.prepare<[number, string, string | null], DeploymentRow>(
      `INSERT INTO deployments (revision, deployed_at, deployed_by) VALUES (?, ?, ?)
       RETURNING id, revision, deployed_at, deployed_by`,
    ),
    currentDeployment: db.prepare<[], DeploymentRow>(
      'SELECT id, revision, deployed_at, deployed_by FROM deployments ORDER BY id DESC LIMIT 1',
    ),
    deploymentHistory: db.prepare<[number], DeploymentRow>(
      'SELECT id, revision, deployed_at, deployed_by FROM deployments ORDER BY id DESC LIMIT ?',
    ),
    insertToken: db.prepare<[string, string, string, string, string, string]>(
      'INSERT INTO admin_tokens (id, name, role, hash, hint, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    tokenByHash: db.prepare<[string], AdminTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM admin_tokens WHERE hash = ?`),
    tokenById: db.prepare<[string], AdminTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM admin_tokens WHERE id = ?`),
    listTokens: db.prepare<[], AdminTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM admin_tokens ORDER BY created_at, id`),
    revokeToken: db.prepare<[string, string]>('UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    // Only moves forward, so a late write from a slow request cannot make a token look less recently used.
    touchToken: db.prepare<[string, string, string]>(
      'UPDATE admin_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
    ),
    countActiveTokens: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM admin_tokens WHERE revoked_at IS NULL'),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    insertMetaIfAbsent: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    upsertMeta: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    ping: db.prepare<[], { one: number }>('SELECT 1 AS one'),
  };

  // IMMEDIATE: take the write lock before reading, so a check-then-write cannot interleave with another
  // process's write (a DEFERRED transaction would fail with SQLITE_BUSY instead of waiting).
  const activateTx = db.transaction((revision: number, at: string, by: string | null): DeploymentRow => {
    if (!sql.revisionExists.get(revision)) throw new StoreNotFoundError(`revision ${revision} does not exist`);
    return sql.insertDeployment.get(revision, at, by)!;
  });
  const setIfAbsentTx = db.transaction((key: string, value: string): string => {
    sql.insertMetaIfAbsent.run(key, value);
    return sql.getMeta.get(key)!.value;
  });

  const notifier = acquireEmitter(inMemory ? undefined : path);
  const ownListeners = new Set<{ channel: ChangeChannel; listener: (payload: string) => void }>();
  let closed = false;
  const live = (): void => {
    if (closed) throw new Error(`SQLite store ${path} is closed`);
  };

  const store: Store = {
    kind: 'sqlite',
    location: path,
    revisions: {
      async create(input) {
        live();
        const r = checkNewRevision(input);
        const createdAt = isoNow(clock);
        // A single INSERT is its own transaction; AUTOINCREMENT assigns the number under the write lock.
        const { number } = sql.insertRevision.get(createdAt, r.sha256, r.format, r.sizeBytes, r.comment, r.createdBy, r.source)!;
        return Object.freeze({
          number,
          createdAt,
          sha256: r.sha256,
          format: r.format,
          sizeBytes: r.sizeBytes,
          comment: r.comment,
          createdBy: r.createdBy,
          source: r.source,
        });
      },
      async get(number) {
        live();
        if (!Number.isSafeInteger(number)) return undefined;
        const row = sql.getRevision.get(number);
        return row ? toRevision(row) : undefined;
      },
      async list(options = {}) {
        live();
        const limit = checkLimit(options.limit) ?? -1; // LIMIT -1 means no limit in SQLite
        const before = checkRevisionNumber(options.before, 'before') ?? Number.MAX_SAFE_INTEGER;
        return sql.listRevisions.all(before, limit).map(toSummary);
      },
    },
    deployments: {
      async activate(revision, deployedBy) {
        live();
        if (!Number.isSafeInteger(revision)) throw new StoreNotFoundError(`revision ${revision} does not exist`);
        return toDeployment(activateTx.immediate(revision, isoNow(clock), deployedBy ?? null));
      },
      async current() {
        live();
        const row = sql.currentDeployment.get();
        return row ? toDeployment(row) : undefined;
      },
      async history(options = {}) {
        live();
        const limit = checkLimit(options.limit) ?? -1;
        return sql.deploymentHistory.all(limit).map(toDeployment);
      },
    },
    adminTokens: {
      async create(record) {
        live();
        const t = checkNewAdminToken(record);
        try {
          sql.insertToken.run(t.id, t.name, t.role, t.hash, t.hint, t.createdAt);
        } catch (err) {
          if (hasErrorCode(err, ['SQLITE_CONSTRAINT_PRIMARYKEY'])) {
            throw new StoreConflictError(`admin token id ${JSON.stringify(t.id)} already exists`, { cause: err });
          }
          if (hasErrorCode(err, ['SQLITE_CONSTRAINT_UNIQUE'])) {
            throw new StoreConflictError('an admin token with this hash already exists', { cause: err });
          }
          throw err;
        }
        return Object.freeze({ ...t, revokedAt: null, lastUsedAt: null });
      },
      async findByHash(hash) {
        live();
        const row = typeof hash === 'string' ? sql.tokenByHash.get(hash) : undefined;
        return row ? toAdminToken(row) : undefined;
      },
      async get(id) {
        live();
        const row = typeof id === 'string' ? sql.tokenById.get(id) : undefined;
        return row ? toAdminToken(row) : undefined;
      },
      async list() {
        live();
        return sql.listTokens.all().map(toAdminToken);
      },
      async revoke(id, at) {
        live();
        return sql.revokeToken.run(normalizeTimestamp(at, 'revokedAt'), id).changes > 0;
      },
      async touch(id, at) {
        live();
        const when = normalizeTimestamp(at, 'lastUsedAt');
        sql.touchToken.run(when, id, when);
      },
      async countActive() {
        live();
        return sql.countActiveTokens.get()!.n;
      },
    },
    meta: {
      async get(key) {
        live();
        return sql.getMeta.get(checkMetaKey(key))?.value;
      },
      async setIfAbsent(key, value) {
        live();
        return setIfAbsentTx.immediate(checkMetaKey(key), checkMetaValue(value));
      },
      async set(key, value) {
        live();
        sql.upsertMeta.run(checkMetaKey(key), checkMetaValue(value));
      },
    },
    apiKeys: createSqliteApiKeyStore(db, () => live(), clock),
    iam: createSqliteIamStore(db, () => live()),
    audit: createSqliteAuditStore(db, () => live()),
    changes: {
      async publish(channel, payload) {
        live();
        checkChannel(channel);
        checkPayload(payload);
        // Delivered after publish returns, like a NOTIFY, so listeners never run inside the caller's stack.
        const listeners = notifier.emitter.listeners(channel) as ((p: string) => void)[];
        queueMicrotask(() => dispatch(listeners, payload));
      },
      async subscribe(channel, listener) {
        live();
        checkChannel(channel);
        if (typeof listener !== 'function') throw new TypeError('change listener must be a function');
        // A wrapper per subscription, so subscribing one function twice needs two unsubscribes.
        const entry = { channel, listener: (payload: string) => listener(payload) };
        ownListeners.add(entry);
        notifier.emitter.on(channel, entry.listener);
        return async () => {
          if (ownListeners.delete(entry)) notifier.emitter.off(channel, entry.listener);
        };
      },
    },
    async ping() {
      live();
      sql.ping.get();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const entry of ownListeners) notifier.emitter.off(entry.channel, entry.listener);
      ownListeners.clear();
      notifier.release();
      db.close();
    },
  };
  return Object.freeze(store);
}

function toSummary(row: RevisionRow): RevisionSummary {
  return Object.freeze({
    number: row.number,
    createdAt: row.created_at,
    sha256: row.sha256,
    format: row.format,
    sizeBytes: row.size_bytes,
    comment: row.comment,
    createdBy: row.created_by,
  });
}

function toRevision(row: RevisionRow): RevisionRecord {
  return Object.freeze({ ...toSummary(row), source: row.source ?? '' });
}

function toDeployment(row: DeploymentRow): DeploymentRecord {
  return Object.freeze({ id: row.id, revision: row.revision, deployedAt: row.deployed_at, deployedBy: row.deployed_by });
}

function toAdminToken(row: AdminTokenRow): AdminTokenRecord {
  return Object.freeze({
    id: row.id,
    name: row.name,
    role: row.role,
    hash: row.hash,
    hint: row.hint,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  });
}
