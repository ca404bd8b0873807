// The API-key sub-port on SQLite: keys by keyed hash, subscriptions, daily usage and a version row, with the
// schema step the migration list appends (migrations.ts).
import type Database from 'better-sqlite3';
import type { Clock } from '../../core/clock.ts';
import { checkLimit, hasErrorCode, normalizeTimestamp } from '../adapter-kit.ts';
import { ALL_KEYS, CHANGE_LOG_KEEP, keyChanges, type ApiKeyRecord, type ApiKeyStore, type NewApiKey, type UsageRow } from '../api-keys-port.ts';
import { StoreConflictError, StoreNotFoundError } from '../ports.ts';
import { checkNewApiKey, checkPatch, checkUsageCount, checkUsageDelta, DAY, exclusiveConflict } from '../api-keys-kit.ts';

export const SQLITE_API_KEYS_SQL = `
  CREATE TABLE api_keys (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL,
    customer_id          TEXT,
    tags                 TEXT NOT NULL,
    enabled              INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    expires_at           TEXT,
    hash                 TEXT NOT NULL UNIQUE,
    hint                 TEXT NOT NULL,
    previous_hash        TEXT UNIQUE,
    previous_hash_until  TEXT
  ) STRICT;

  CREATE TABLE api_key_subscriptions (
    key_id      TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    plan        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (key_id, plan)
  ) STRICT;
  CREATE INDEX api_key_subscriptions_plan ON api_key_subscriptions (plan);

  -- No foreign key: usage of a deleted key stays reportable.
  CREATE TABLE api_key_usage (
    plan    TEXT NOT NULL,
    key_id  TEXT NOT NULL,
    day     TEXT NOT NULL,
    used    INTEGER NOT NULL,
    adjust  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (plan, key_id, day)
  ) STRICT;

  CREATE TABLE api_key_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
  ) STRICT;
  INSERT INTO api_key_version (id, version) VALUES (1, 1);
`;

/** Migration step 5: which key each version changed, so polling nodes re-read only those (changesSince). */
/** Hints were the first 8 characters of a value: 8 of an imported key's 20 or more. Keep 4 of the secret part. */
export const SQLITE_SHORTER_HINTS_SQL = `
  UPDATE api_keys SET hint = substr(hint, 1, 4) WHERE substr(hint, 1, 4) <> 'pck_';
`;

export const SQLITE_KEY_CHANGES_SQL = `
  CREATE TABLE api_key_changes (
    version  INTEGER PRIMARY KEY,
    key_id   TEXT NOT NULL
  ) STRICT;
`;

interface KeyRow {
  id: string;
  name: string;
  description: string;
  customer_id: string | null;
  tags: string;
  enabled: number;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  hash: string;
  hint: string;
  previous_hash: string | null;
  previous_hash_until: string | null;
}

const COLUMNS =
  'id, name, description, customer_id, tags, enabled, created_at, updated_at, expires_at, hash, hint, previous_hash, previous_hash_until';

export function createSqliteApiKeyStore(db: Database.Database, live: () => void, _clock: Clock): ApiKeyStore {
  const sql = {
    insert: db.prepare(
      `INSERT INTO api_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
    ),
    byId: db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`),
    byHash: db.prepare<[string, string], KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE hash = ? OR previous_hash = ?`),
    byCurrentHash: db.prepare<[string], KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE hash = ?`),
    list: db.prepare<[string, number], KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id > ? ORDER BY id LIMIT ?`),
    update: db.prepare(
      'UPDATE api_keys SET name = ?, description = ?, customer_id = ?, tags = ?, enabled = ?, expires_at = ?, updated_at = ? WHERE id = ?',
    ),
    overwrite: db.prepare('UPDATE api_keys SET name = ?, description = ?, enabled = ?, updated_at = ? WHERE id = ?'),
    rotate: db.prepare(
      'UPDATE api_keys SET previous_hash = ?, previous_hash_until = ?, hash = ?, hint = ?, updated_at = ? WHERE id = ?',
    ),
    delete: db.prepare<[string]>('DELETE FROM api_keys WHERE id = ?'),
    subscribe: db.prepare('INSERT INTO api_key_subscriptions (key_id, plan, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    subscription: db.prepare<[string, string], { key_id: string; plan: string; created_at: string }>(
      'SELECT key_id, plan, created_at FROM api_key_subscriptions WHERE key_id = ? AND plan = ?',
    ),
    unsubscribe: db.prepare<[string, string]>('DELETE FROM api_key_subscriptions WHERE key_id = ? AND plan = ?'),
    subscriptions: db.prepare<[{ key: string | null; plan: string | null }], { key_id: string; plan: string; created_at: string }>(
      'SELECT key_id, plan, created_at FROM api_key_subscriptions WHERE (@key IS NULL OR key_id = @key) AND (@plan IS NULL OR plan = @plan) ORDER BY key_id, plan',
    ),
    addUsage: db.prepare(
      'INSERT INTO api_key_usage (plan, key_id, day, used, adjust) VALUES (?, ?, ?, ?, ?) ON CONFLICT (plan, key_id, day) DO UPDATE SET used = used + excluded.used, adjust = adjust + excluded.adjust',
    ),
    raiseUsage: db.prepare(
      'INSERT INTO api_key_usage (plan, key_id, day, used, adjust) VALUES (?, ?, ?, ?, 0) ON CONFLICT (plan, key_id, day) DO UPDATE SET used = max(used, excluded.used)',
    ),
    usage: db.prepare<[{ plan: string; from: string; to: string; key: string | null }], { plan: string; key_id: string; day: string; used: number; adjust: number }>(
      'SELECT plan, key_id, day, used, adjust FROM api_key_usage WHERE plan = @plan AND day >= @from AND day <= @to AND (@key IS NULL OR key_id = @key) ORDER BY key_id, day',
    ),
    directoryKeys: db
      .prepare<[string, number], unknown[]>(
        'SELECT id, enabled, expires_at, hash, previous_hash, previous_hash_until FROM api_keys WHERE id > ? ORDER BY id LIMIT ?',
      )
      .raw(true),
    directorySubs: db
      .prepare<[string, string], unknown[]>(
        'SELECT key_id, plan, created_at FROM api_key_subscriptions WHERE key_id >= ? AND key_id <= ? ORDER BY key_id',
      )
      .raw(true),
    bump: db.prepare('UPDATE api_key_version SET version = version + 1 WHERE id = 1'),
    version: db.prepare<[], { version: number }>('SELECT version FROM api_key_version WHERE id = 1'),
    logChange: db.prepare<[string]>('INSERT INTO api_key_changes (version, key_id) SELECT version, ? FROM api_key_version WHERE id = 1'),
    pruneChanges: db.prepare<[number]>(`DELETE FROM api_key_changes WHERE version <= (SELECT version FROM api_key_version WHERE id = 1) - ?`),
    changesSince: db.prepare<[number], { key_id: string }>('SELECT key_id FROM api_key_changes WHERE version > ? ORDER BY version'),
  };
  /** Every change: a new version, and which key it changed (ALL_KEYS for an import). */
  const bump = (keyId: string): void => {
    sql.bump.run();
    sql.logChange.run(keyId);
    sql.pruneChanges.run(CHANGE_LOG_KEEP);
  };
  const changesTx = db.transaction((since: number) => {
    const version = sql.version.get()!.version;
    return keyChanges(version, since, sql.changesSince.all(since).map((r) => r.key_id));
  });

  const insertKey = (k: NewApiKey): void => {
    sql.insert.run(k.id, k.name, k.description, k.customerId, JSON.stringify(k.tags), k.enabled ? 1 : 0, k.createdAt, k.createdAt, k.expiresAt, k.hash, k.hint);
  };
  const conflict = (err: unknown, k: { id: string }): never => {
    if (hasErrorCode(err, ['SQLITE_CONSTRAINT_PRIMARYKEY'])) throw new StoreConflictError(`API key id ${JSON.stringify(k.id)} already exists`, { cause: err });
    if (hasErrorCode(err, ['SQLITE_CONSTRAINT_UNIQUE'])) throw new StoreConflictError('an API key with this value already exists', { cause: err });
    throw err;
  };

  const createTx = db.transaction((k: NewApiKey, plans: readonly string[]) => {
    try {
      insertKey(k);
    } catch (err) {
      conflict(err, k);
    }
    for (const p of plans) sql.subscribe.run(k.id, p, k.createdAt);
    bump(k.id);
  });
  const updateTx = db.transaction((id: string, fn: (row: KeyRow) => void) => {
    const row = sql.byId.get(id);
    if (!row) throw new StoreNotFoundError(`API key ${JSON.stringify(id)} does not exist`);
    fn(row);
    bump(id);
    return sql.byId.get(id)!;
  });
  const importTx = db.transaction((keys: readonly { key: NewApiKey; plans: readonly string[] }[], at: string) => {
    let created = 0;
    let updated = 0;
    for (const { key, plans } of keys) {
      const existing = sql.byCurrentHash.get(key.hash);
      const id = existing ? existing.id : key.id;
      if (existing) {
        sql.overwrite.run(key.name, key.description, key.enabled ? 1 : 0, at, id);
        updated++;
      } else {
        try {
          insertKey(key);
        } catch (err) {
          conflict(err, key);
        }
        created++;
      }
      for (const p of plans) sql.subscribe.run(id, p, at);
    }
    bump(ALL_KEYS);
    return { created, updated };
  });
  const bumpTx = db.transaction((keyId: string, fn: () => unknown): unknown => {
    const out = fn();
    bump(keyId);
    return out;
  });
  const simpleTx = { immediate: <T>(keyId: string, fn: () => T): T => bumpTx.immediate(keyId, fn) as T };
  const usageTx = db.transaction((rows: readonly { plan: string; keyId: string; day: string; used: number; adjust: number }[]) => {
    for (const r of rows) sql.addUsage.run(r.plan, r.keyId, r.day, r.used, r.adjust);
  });
  const raiseTx = db.transaction((rows: readonly { plan: string; keyId: string; day: string; used: number }[]) => {
    for (const r of rows) sql.raiseUsage.run(r.plan, r.keyId, r.day, r.used);
  });

  return Object.freeze({
    async create(key, plans = []) {
      live();
      const k = checkNewApiKey(key);
      createTx.immediate(k, plans);
      return toRecord(sql.byId.get(k.id)!);
    },
    async get(id) {
      live();
      const row = typeof id === 'string' ? sql.byId.get(id) : undefined;
      return row ? toRecord(row) : undefined;
    },
    async findByHash(hash) {
      live();
      const row = typeof hash === 'string' ? sql.byHash.get(hash, hash) : undefined;
      return row ? toRecord(row) : undefined;
    },
    async list(options = {}) {
      live();
      const limit = checkLimit(options.limit) ?? -1;
      return sql.list.all(options.after ?? '', limit).map(toRecord);
    },
    async update(id, patch, at) {
      live();
      const p = checkPatch(patch);
      const when = normalizeTimestamp(at, 'updatedAt');
      return toRecord(
        updateTx.immediate(id, (row) => {
          const merged = { ...toRecord(row), ...p };
          sql.update.run(merged.name, merged.description, merged.customerId, JSON.stringify(merged.tags), merged.enabled ? 1 : 0, merged.expiresAt, when, id);
        }),
      );
    },
    async rotate(id, change, at) {
      live();
      const when = normalizeTimestamp(at, 'updatedAt');
      const until = change.until === null ? null : normalizeTimestamp(change.until, 'until');
      try {
        return toRecord(
          updateTx.immediate(id, (row) => {
            sql.rotate.run(until === null ? null : row.hash, until, change.hash, change.hint, when, id);
          }),
        );
      } catch (err) {
        return conflict(err, { id });
      }
    },
    async delete(id) {
      live();
      return simpleTx.immediate(id, () => sql.delete.run(id).changes > 0);
    },
    async importMany(keys, at) {
      live();
      const when = normalizeTimestamp(at, 'at');
      const checked = keys.map((k) => ({ key: checkNewApiKey(k.key), plans: k.plans }));
      return importTx.immediate(checked, when);
    },
    async subscribe(keyId, plan, at, exclusiveWith = []) {
      live();
      const when = normalizeTimestamp(at, 'createdAt');
      return simpleTx.immediate(keyId, () => {
        if (!sql.byId.get(keyId)) throw new StoreNotFoundError(`API key ${JSON.stringify(keyId)} does not exist`);
        const held = sql.subscriptions.all({ key: keyId, plan: null }).find((r) => r.plan !== plan && exclusiveWith.includes(r.plan));
        if (held) throw exclusiveConflict(keyId, plan, held.plan);
        sql.subscribe.run(keyId, plan, when);
        const row = sql.subscription.get(keyId, plan)!;
        return Object.freeze({ keyId: row.key_id, plan: row.plan, createdAt: row.created_at });
      });
    },
    async unsubscribe(keyId, plan) {
      live();
      return simpleTx.immediate(keyId, () => sql.unsubscribe.run(keyId, plan).changes > 0);
    },
    async subscriptions(filter = {}) {
      live();
      return sql.subscriptions
        .all({ key: filter.keyId ?? null, plan: filter.plan ?? null })
        .map((r) => Object.freeze({ keyId: r.key_id, plan: r.plan, createdAt: r.created_at }));
    },
    async addUsage(deltas) {
      live();
      const rows = deltas.map(checkUsageDelta);
      if (rows.length) usageTx.immediate(rows);
    },
    async raiseUsage(counts) {
      live();
      const rows = counts.map(checkUsageCount);
      if (rows.length) raiseTx.immediate(rows);
    },
    async usage(filter) {
      live();
      if (!DAY.test(filter.fromDay) || !DAY.test(filter.toDay)) throw new TypeError('usage days must be YYYY-MM-DD');
      return sql.usage.all({ plan: filter.plan, from: filter.fromDay, to: filter.toDay, key: filter.keyId ?? null }).map(
        (r): UsageRow => Object.freeze({ plan: r.plan, keyId: r.key_id, day: r.day, used: r.used, adjust: r.adjust }),
      );
    },
    async directoryPage(after, limit) {
      live();
      const keys = sql.directoryKeys.all(after, limit) as [string, number, string | null, string, string | null, string | null][];
      if (keys.length === 0) return [];
      const plans = new Map<string, [string, number][]>();
      for (const [keyId, plan, createdAt] of sql.directorySubs.all(keys[0]![0], keys[keys.length - 1]![0]) as [string, string, string][]) {
        let list = plans.get(keyId);
        if (!list) plans.set(keyId, (list = []));
        list.push([plan, Date.parse(createdAt)]);
      }
      return keys.map(([id, enabled, expires, hash, prev, prevUntil]) => ({
        id,
        enabled: enabled === 1,
        expiresAt: expires === null ? null : Date.parse(expires),
        hash,
        previousHash: prev,
        previousHashUntil: prevUntil === null ? null : Date.parse(prevUntil),
        plans: plans.get(id) ?? [],
      }));
    },
    async version() {
      live();
      return sql.version.get()!.version;
    },
    async changesSince(since) {
      live();
      return changesTx(since);
    },
  } satisfies ApiKeyStore);
}

function toRecord(row: KeyRow): ApiKeyRecord {
  return Object.freeze({
    id: row.id,
    name: row.name,
    description: row.description,
    customerId: row.customer_id,
    tags: Object.freeze(JSON.parse(row.tags) as Record<string, string>),
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    hash: row.hash,
    hint: row.hint,
    previousHash: row.previous_hash,
    previousHashUntil: row.previous_hash_until,
  });
}
