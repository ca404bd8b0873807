// The API-key sub-port on PostgreSQL: keys by keyed hash, subscriptions, daily usage and a version row, with
// the schema step the migration list appends (migrations.ts). Bulk import uses unnest() batches in one transaction.
import type pg from 'pg';
import { checkLimit, hasErrorCode, normalizeTimestamp } from '../adapter-kit.ts';
import { ALL_KEYS, CHANGE_LOG_KEEP, keyChanges, type ApiKeyRecord, type ApiKeyStore, type NewApiKey, type UsageRow } from '../api-keys-port.ts';
import { StoreConflictError, StoreNotFoundError } from '../ports.ts';
import { checkNewApiKey, checkPatch, checkUsageCount, checkUsageDelta, DAY, exclusiveConflict } from '../api-keys-kit.ts';
import { inTransaction } from './pg-transaction.ts';

export const postgresApiKeysSql = (s: string): string => `
  CREATE TABLE ${s}.api_keys (
    id                   text        PRIMARY KEY,
    name                 text        NOT NULL,
    description          text        NOT NULL,
    customer_id          text,
    tags                 jsonb       NOT NULL,
    enabled              boolean     NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    expires_at           timestamptz,
    hash                 text        NOT NULL CONSTRAINT api_keys_hash_key UNIQUE,
    hint                 text        NOT NULL,
    previous_hash        text        CONSTRAINT api_keys_previous_hash_key UNIQUE,
    previous_hash_until  timestamptz
  );

  CREATE TABLE ${s}.api_key_subscriptions (
    key_id      text        NOT NULL REFERENCES ${s}.api_keys (id) ON DELETE CASCADE,
    plan        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (key_id, plan)
  );
  CREATE INDEX api_key_subscriptions_plan ON ${s}.api_key_subscriptions (plan);

  -- No foreign key: usage of a deleted key stays reportable.
  CREATE TABLE ${s}.api_key_usage (
    plan    text   NOT NULL,
    key_id  text   NOT NULL,
    day     date   NOT NULL,
    used    bigint NOT NULL,
    adjust  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (plan, key_id, day)
  );

  CREATE TABLE ${s}.api_key_version (
    id       integer PRIMARY KEY CHECK (id = 1),
    version  bigint  NOT NULL
  );
  INSERT INTO ${s}.api_key_version (id, version) VALUES (1, 1);
`;

/** Migration step 5: which key each version changed, so polling nodes re-read only those (changesSince). */
/** Hints were the first 8 characters of a value: 8 of an imported key's 20 or more. Keep 4 of the secret part. */
export const postgresShorterHintsSql = (s: string): string => `
  UPDATE ${s}.api_keys SET hint = substr(hint, 1, 4) WHERE substr(hint, 1, 4) <> 'pck_';
`;

export const postgresKeyChangesSql = (s: string): string => `
  CREATE TABLE ${s}.api_key_changes (
    version  bigint PRIMARY KEY,
    key_id   text   NOT NULL
  );
`;

interface KeyRow {
  id: string;
  name: string;
  description: string;
  customer_id: string | null;
  tags: Record<string, string>;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  expires_at: Date | null;
  hash: string;
  hint: string;
  previous_hash: string | null;
  previous_hash_until: Date | null;
}

const COLUMNS =
  'id, name, description, customer_id, tags, enabled, created_at, updated_at, expires_at, hash, hint, previous_hash, previous_hash_until';
const UNIQUE_VIOLATION = '23505';
const IMPORT_BATCH = 5000;

export function createPostgresApiKeyStore(pool: pg.Pool, s: string, live: () => void): ApiKeyStore {
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> => {
    live();
    return pool.query<R>(text, values);
  };
  /**
   * Runs fn in a transaction that ends with a new version logged against `keyId` (ALL_KEYS for an import). The
   * version row's lock orders writers, so versions commit in order.
   */
  async function tx<T>(keyId: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    live();
    return inTransaction(pool, async (c) => {
      const out = await fn(c);
      await c.query(
        `WITH v AS (UPDATE ${s}.api_key_version SET version = version + 1 WHERE id = 1 RETURNING version),
              logged AS (INSERT INTO ${s}.api_key_changes (version, key_id) SELECT version, $1 FROM v)
         DELETE FROM ${s}.api_key_changes WHERE version <= (SELECT version FROM v) - $2`,
        [keyId, CHANGE_LOG_KEEP],
      );
      return out;
    });
  }
  const conflict = (err: unknown, id: string): never => {
    if (hasErrorCode(err, [UNIQUE_VIOLATION])) {
      const constraint = String((err as { constraint?: unknown }).constraint ?? '');
      if (constraint === 'api_keys_pkey') throw new StoreConflictError(`API key id ${JSON.stringify(id)} already exists`, { cause: err });
      throw new StoreConflictError('an API key with this value already exists', { cause: err });
    }
    throw err;
  };
  const insertKey = (c: pg.ClientBase, k: NewApiKey) =>
    c.query(
      `INSERT INTO ${s}.api_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, NULL, NULL)`,
      [k.id, k.name, k.description, k.customerId, JSON.stringify(k.tags), k.enabled, k.createdAt, k.expiresAt, k.hash, k.hint],
    );
  const getRow = async (c: pg.ClientBase, id: string) =>
    (await c.query<KeyRow>(`SELECT ${COLUMNS} FROM ${s}.api_keys WHERE id = $1`, [id])).rows[0];

  return Object.freeze({
    async create(key, plans = []) {
      const k = checkNewApiKey(key);
      return tx(k.id, async (c) => {
        try {
          await insertKey(c, k);
        } catch (err) {
          conflict(err, k.id);
        }
        for (const p of plans) {
          await c.query(`INSERT INTO ${s}.api_key_subscriptions (key_id, plan, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [k.id, p, k.createdAt]);
        }
        return toRecord((await getRow(c, k.id))!);
      });
    },
    async get(id) {
      const { rows } = await query<KeyRow>(`SELECT ${COLUMNS} FROM ${s}.api_keys WHERE id = $1`, [String(id)]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
    async findByHash(hash) {
      const { rows } = await query<KeyRow>(`SELECT ${COLUMNS} FROM ${s}.api_keys WHERE hash = $1 OR previous_hash = $1`, [String(hash)]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
    async list(options = {}) {
      const limit = checkLimit(options.limit) ?? null;
      const { rows } = await query<KeyRow>(`SELECT ${COLUMNS} FROM ${s}.api_keys WHERE id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2`, [
        options.after ?? '',
        limit,
      ]);
      return rows.map(toRecord);
    },
    async update(id, patch, at) {
      const p = checkPatch(patch);
      const when = normalizeTimestamp(at, 'updatedAt');
      return tx(id, async (c) => {
        const row = await getRow(c, id);
        if (!row) throw new StoreNotFoundError(`API key ${JSON.stringify(id)} does not exist`);
        const m = { ...toRecord(row), ...p };
        await c.query(
          `UPDATE ${s}.api_keys SET name = $1, description = $2, customer_id = $3, tags = $4, enabled = $5, expires_at = $6, updated_at = $7 WHERE id = $8`,
          [m.name, m.description, m.customerId, JSON.stringify(m.tags), m.enabled, m.expiresAt, when, id],
        );
        return toRecord((await getRow(c, id))!);
      });
    },
    async rotate(id, change, at) {
      const when = normalizeTimestamp(at, 'updatedAt');
      const until = change.until === null ? null : normalizeTimestamp(change.until, 'until');
      return tx(id, async (c) => {
        const row = await getRow(c, id);
        if (!row) throw new StoreNotFoundError(`API key ${JSON.stringify(id)} does not exist`);
        try {
          await c.query(
            `UPDATE ${s}.api_keys SET previous_hash = $1, previous_hash_until = $2, hash = $3, hint = $4, updated_at = $5 WHERE id = $6`,
            [until === null ? null : row.hash, until, change.hash, change.hint, when, id],
          );
        } catch (err) {
          conflict(err, id);
        }
        return toRecord((await getRow(c, id))!);
      });
    },
    async delete(id) {
      return tx(id, async (c) => ((await c.query(`DELETE FROM ${s}.api_keys WHERE id = $1`, [id])).rowCount ?? 0) > 0);
    },
    async importMany(keys, at) {
      const when = normalizeTimestamp(at, 'at');
      const checked = keys.map((k) => ({ key: checkNewApiKey(k.key), plans: k.plans }));
      return tx(ALL_KEYS, async (c) => {
        let created = 0;
        let updated = 0;
        for (let i = 0; i < checked.length; i += IMPORT_BATCH) {
          const batch = checked.slice(i, i + IMPORT_BATCH);
          const col = <T>(f: (k: NewApiKey) => T) => batch.map((b) => f(b.key));
          let rows: { id: string; hash: string; inserted: boolean }[];
          try {
            // xmax = 0 tells a freshly inserted row from one updated by ON CONFLICT.
            ({ rows } = await c.query<{ id: string; hash: string; inserted: boolean }>(
              `INSERT INTO ${s}.api_keys (${COLUMNS})
               SELECT id, name, description, customer_id, tags::jsonb, enabled, created_at, created_at, expires_at, hash, hint, NULL, NULL
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[])
                 AS t(id, name, description, customer_id, tags, enabled, created_at, expires_at, hash, hint)
               ON CONFLICT (hash) DO UPDATE SET name = excluded.name, description = excluded.description, enabled = excluded.enabled, updated_at = $11
               RETURNING id, hash, (xmax = 0) AS inserted`,
              [
                col((k) => k.id), col((k) => k.name), col((k) => k.description), col((k) => k.customerId), col((k) => JSON.stringify(k.tags)),
                col((k) => k.enabled), col((k) => k.createdAt), col((k) => k.expiresAt), col((k) => k.hash), col((k) => k.hint), when,
              ],
            ));
          } catch (err) {
            return conflict(err, '');
          }
          const idByHash = new Map(rows.map((r) => [r.hash, r.id]));
          for (const r of rows) r.inserted ? created++ : updated++;
          const subKeys: string[] = [];
          const subPlans: string[] = [];
          for (const b of batch) for (const p of b.plans) (subKeys.push(idByHash.get(b.key.hash)!), subPlans.push(p));
          if (subKeys.length) {
            await c.query(
              `INSERT INTO ${s}.api_key_subscriptions (key_id, plan, created_at) SELECT k, p, $3 FROM unnest($1::text[], $2::text[]) AS t(k, p) ON CONFLICT DO NOTHING`,
              [subKeys, subPlans, when],
            );
          }
        }
        return { created, updated };
      });
    },
    async subscribe(keyId, plan, at, exclusiveWith = []) {
      const when = normalizeTimestamp(at, 'createdAt');
      return tx(keyId, async (c) => {
        // The key's row locked: subscriptions of one key are decided one at a time, on every node.
        const locked = await c.query(`SELECT 1 FROM ${s}.api_keys WHERE id = $1 FOR UPDATE`, [keyId]);
        if (locked.rowCount === 0) throw new StoreNotFoundError(`API key ${JSON.stringify(keyId)} does not exist`);
        if (exclusiveWith.length) {
          const { rows: held } = await c.query<{ plan: string }>(
            `SELECT plan FROM ${s}.api_key_subscriptions WHERE key_id = $1 AND plan <> $2 AND plan = ANY($3::text[]) ORDER BY plan COLLATE "C" LIMIT 1`,
            [keyId, plan, exclusiveWith],
          );
          if (held[0]) throw exclusiveConflict(keyId, plan, held[0].plan);
        }
        await c.query(`INSERT INTO ${s}.api_key_subscriptions (key_id, plan, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [keyId, plan, when]);
        const { rows } = await c.query<{ key_id: string; plan: string; created_at: Date }>(
          `SELECT key_id, plan, created_at FROM ${s}.api_key_subscriptions WHERE key_id = $1 AND plan = $2`,
          [keyId, plan],
        );
        return Object.freeze({ keyId: rows[0]!.key_id, plan: rows[0]!.plan, createdAt: rows[0]!.created_at.toISOString() });
      });
    },
    async unsubscribe(keyId, plan) {
      return tx(keyId, async (c) => ((await c.query(`DELETE FROM ${s}.api_key_subscriptions WHERE key_id = $1 AND plan = $2`, [keyId, plan])).rowCount ?? 0) > 0);
    },
    async subscriptions(filter = {}) {
      const { rows } = await query<{ key_id: string; plan: string; created_at: Date }>(
        `SELECT key_id, plan, created_at FROM ${s}.api_key_subscriptions
         WHERE ($1::text IS NULL OR key_id = $1) AND ($2::text IS NULL OR plan = $2) ORDER BY key_id COLLATE "C", plan COLLATE "C"`,
        [filter.keyId ?? null, filter.plan ?? null],
      );
      return rows.map((r) => Object.freeze({ keyId: r.key_id, plan: r.plan, createdAt: r.created_at.toISOString() }));
    },
    async addUsage(deltas) {
      const rows = deltas.map(checkUsageDelta);
      if (!rows.length) return;
      await query(
        `INSERT INTO ${s}.api_key_usage (plan, key_id, day, used, adjust)
         SELECT plan, key_id, day::date, sum(used), sum(adjust) FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS t(plan, key_id, day, used, adjust)
         GROUP BY plan, key_id, day
         ON CONFLICT (plan, key_id, day) DO UPDATE SET used = ${s}.api_key_usage.used + excluded.used, adjust = ${s}.api_key_usage.adjust + excluded.adjust`,
        [rows.map((r) => r.plan), rows.map((r) => r.keyId), rows.map((r) => r.day), rows.map((r) => r.used), rows.map((r) => r.adjust)],
      );
    },
    async raiseUsage(counts) {
      const rows = counts.map(checkUsageCount);
      if (!rows.length) return;
      await query(
        `INSERT INTO ${s}.api_key_usage (plan, key_id, day, used, adjust)
         SELECT plan, key_id, day::date, max(used), 0 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(plan, key_id, day, used)
         GROUP BY plan, key_id, day
         ON CONFLICT (plan, key_id, day) DO UPDATE SET used = GREATEST(${s}.api_key_usage.used, excluded.used)`,
        [rows.map((r) => r.plan), rows.map((r) => r.keyId), rows.map((r) => r.day), rows.map((r) => r.used)],
      );
    },
    async usage(filter) {
      if (!DAY.test(filter.fromDay) || !DAY.test(filter.toDay)) throw new TypeError('usage days must be YYYY-MM-DD');
      const { rows } = await query<{ plan: string; key_id: string; day: string; used: string; adjust: string }>(
        `SELECT plan, key_id, to_char(day, 'YYYY-MM-DD') AS day, used, adjust FROM ${s}.api_key_usage
         WHERE plan = $1 AND day >= $2::date AND day <= $3::date AND ($4::text IS NULL OR key_id = $4) ORDER BY key_id COLLATE "C", day`,
        [filter.plan, filter.fromDay, filter.toDay, filter.keyId ?? null],
      );
      return rows.map((r): UsageRow => Object.freeze({ plan: r.plan, keyId: r.key_id, day: r.day, used: Number(r.used), adjust: Number(r.adjust) }));
    },
    async directoryPage(after, limit) {
      live();
      const keys = await pool.query<unknown[]>({
        text: `SELECT id, enabled, (extract(epoch FROM expires_at) * 1000)::float8, hash, previous_hash, (extract(epoch FROM previous_hash_until) * 1000)::float8
               FROM ${s}.api_keys WHERE id COLLATE "C" > $1 ORDER BY id COLLATE "C" LIMIT $2`,
        values: [after, limit],
        rowMode: 'array',
      });
      const rows = keys.rows as [string, boolean, number | null, string, string | null, number | null][];
      if (rows.length === 0) return [];
      const subs = await pool.query<unknown[]>({
        text: `SELECT key_id, plan, (extract(epoch FROM created_at) * 1000)::float8 FROM ${s}.api_key_subscriptions
               WHERE key_id COLLATE "C" >= $1 AND key_id COLLATE "C" <= $2`,
        values: [rows[0]![0], rows[rows.length - 1]![0]],
        rowMode: 'array',
      });
      const plans = new Map<string, [string, number][]>();
      for (const [keyId, plan, at] of subs.rows as [string, string, number][]) {
        let list = plans.get(keyId);
        if (!list) plans.set(keyId, (list = []));
        list.push([plan, at]);
      }
      return rows.map(([id, enabled, expires, hash, prev, prevUntil]) => ({
        id, enabled, expiresAt: expires, hash, previousHash: prev, previousHashUntil: prevUntil, plans: plans.get(id) ?? [],
      }));
    },
    async version() {
      const { rows } = await query<{ version: string }>(`SELECT version FROM ${s}.api_key_version WHERE id = 1`);
      return Number(rows[0]!.version);
    },
    async changesSince(since) {
      // One statement: the version and the log read from one snapshot.
      const { rows } = await query<{ version: string; key_id: string | null }>(
        `SELECT v.version, c.key_id FROM ${s}.api_key_version v
           LEFT JOIN ${s}.api_key_changes c ON c.version > $1
         WHERE v.id = 1 ORDER BY c.version`,
        [since],
      );
      const logged: string[] = [];
      for (const r of rows) if (r.key_id !== null) logged.push(r.key_id);
      return keyChanges(Number(rows[0]!.version), since, logged);
    },
  } satisfies ApiKeyStore);
}

function toRecord(row: KeyRow): ApiKeyRecord {
  return Object.freeze({
    id: row.id,
    name: row.name,
    description: row.description,
    customerId: row.customer_id,
    tags: Object.freeze({ ...row.tags }),
    enabled: row.enabled,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    hash: row.hash,
    hint: row.hint,
    previousHash: row.previous_hash,
    previousHashUntil: row.previous_hash_until?.toISOString() ?? null,
  });
}
