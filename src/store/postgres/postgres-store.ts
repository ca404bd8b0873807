// The cluster Store: PostgreSQL through a pg pool, every table in one schema, with change notification over
// LISTEN/NOTIFY so every gateway node sharing the schema hears deployments and revocations.
import pg from 'pg';
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
  hasErrorCode,
  isoNow,
  normalizeTimestamp,
} from '../adapter-kit.ts';
import {
  StoreConflictError,
  StoreNotFoundError,
  type AdminRole,
  type AdminTokenRecord,
  type DefinitionFormat,
  type DeploymentRecord,
  type RevisionRecord,
  type RevisionSummary,
  type Store,
} from '../ports.ts';
import { applyPostgresMigrations } from './migrations.ts';
import { createPostgresApiKeyStore } from './api-keys.ts';
import { createPostgresIamStore } from './iam.ts';
import { createPostgresAuditStore } from './audit.ts';
import { createPgListener, type NotifierStatus } from './pg-listener.ts';
import { describeError, describePostgresUrl, notifyChannelName, quoteIdentifier } from './pg-names.ts';

export interface PostgresStoreOptions {
  /** A postgres:// URL as the pg driver accepts it (no `schema` parameter: pass `schema` instead). */
  readonly url: string;
  /** Schema holding every table; created if missing. Default `public`. */
  readonly schema?: string;
  readonly clock?: Clock;
  /** Connections in the query pool; the LISTEN connection comes on top, opened at the first subscribe. */
  readonly poolSize?: number;
  /** See PgListenerOptions.onStatus: after 'connected' following a loss, re-read cached state. */
  readonly onNotifierStatus?: (status: NotifierStatus, error?: Error) => void;
  readonly connectTimeoutMs?: number;
}

interface RevisionRow {
  number: string; // bigint arrives as text from pg
  created_at: Date;
  sha256: string;
  format: DefinitionFormat;
  size_bytes: number;
  comment: string | null;
  created_by: string | null;
  source?: string;
}

interface DeploymentRow {
  id: string;
  revision: string;
  deployed_at: Date;
  deployed_by: string | null;
}

interface AdminTokenRow {
  id: string;
  name: string;
  role: AdminRole;
  hash: string;
  hint: string;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const UNIQUE_VIOLATION = '23505';
const SUMMARY_COLUMNS = 'number, created_at, sha256, format, size_bytes, comment, created_by';
const TOKEN_COLUMNS = 'id, name, role, hash, hint, created_at, revoked_at, last_used_at';
const DEPLOYMENT_COLUMNS = 'id, revision, deployed_at, deployed_by';

export async function createPostgresStore({
  url,
  schema = 'public',
  clock = systemClock,
  poolSize = 10,
  onNotifierStatus,
  connectTimeoutMs = 10_000,
}: PostgresStoreOptions): Promise<Store> {
  if (typeof url !== 'string' || url.length === 0) throw new TypeError('PostgreSQL store url must be a non-empty string');
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new RangeError(`poolSize must be a positive integer, got ${poolSize}`);
  const s = quoteIdentifier(schema);
  const location = describePostgresUrl(url, schema);

  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    application_name: 'portcullis',
    connectionTimeoutMillis: connectTimeoutMs,
  });
  // An idle pooled connection that dies emits 'error' on the pool; unhandled, it would crash the process.
  // The pool drops the connection and opens a new one on demand, so a warning is enough.
  pool.on('error', (err) => process.emitWarning(`PostgreSQL store ${location}: idle connection lost: ${describeError(err)}`));

  try {
    const client = await pool.connect();
    try {
      await applyPostgresMigrations(client, schema, s, isoNow(clock));
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot open the PostgreSQL store at ${location}: ${describeError(err)}`, { cause: err });
  }

  const listener = createPgListener({
    clientConfig: {
      connectionString: url,
      application_name: 'portcullis-listen',
      connectionTimeoutMillis: connectTimeoutMs,
      // TCP keepalive lets the listener notice a silently dropped connection (NAT, failover) and reconnect.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    },
    onStatus: onNotifierStatus,
  });

  let closed = false;
  const live = (): void => {
    if (closed) throw new Error(`PostgreSQL store ${location} is closed`);
  };
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> => {
    live();
    return pool.query<R>(text, values);
  };

  const store: Store = {
    kind: 'postgres',
    location,
    revisions: {
      async create(input) {
        live();
        const r = checkNewRevision(input);
        const createdAt = isoNow(clock);
        // One INSERT: the identity sequence hands out the number atomically across connections and processes.
        const { rows } = await query<{ number: string }>(
          `INSERT INTO ${s}.revisions (created_at, sha256, format, size_bytes, comment, created_by, source)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING number`,
          [createdAt, r.sha256, r.format, r.sizeBytes, r.comment, r.createdBy, r.source],
        );
        return Object.freeze({
          number: Number(rows[0].number),
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
        const { rows } = await query<RevisionRow>(`SELECT ${SUMMARY_COLUMNS}, source FROM ${s}.revisions WHERE number = $1`, [
          number,
        ]);
        return rows[0] ? toRevision(rows[0]) : undefined;
      },
      async list(options = {}) {
        live();
        const limit = checkLimit(options.limit) ?? null; // LIMIT NULL means no limit
        const before = checkRevisionNumber(options.before, 'before') ?? null;
        const { rows } = await query<RevisionRow>(
          `SELECT ${SUMMARY_COLUMNS} FROM ${s}.revisions
           WHERE ($1::bigint IS NULL OR number < $1::bigint) ORDER BY number DESC LIMIT $2`,
          [before, limit],
        );
        return rows.map(toSummary);
      },
    },
    deployments: {
      async activate(revision, deployedBy) {
        live();
        if (!Number.isSafeInteger(revision)) throw new StoreNotFoundError(`revision ${revision} does not exist`);
        // INSERT ... SELECT checks existence and records the deployment in one statement (no check-then-act race).
        const { rows } = await query<DeploymentRow>(
          `INSERT INTO ${s}.deployments (revision, deployed_at, deployed_by)
           SELECT number, $2, $3 FROM ${s}.revisions WHERE number = $1
           RETURNING ${DEPLOYMENT_COLUMNS}`,
          [revision, isoNow(clock), deployedBy ?? null],
        );
        if (!rows[0]) throw new StoreNotFoundError(`revision ${revision} does not exist`);
        return toDeployment(rows[0]);
      },
      async current() {
        const { rows } = await query<DeploymentRow>(`SELECT ${DEPLOYMENT_COLUMNS} FROM ${s}.deployments ORDER BY id DESC LIMIT 1`);
        return rows[0] ? toDeployment(rows[0]) : undefined;
      },
      async history(options = {}) {
        live();
        const limit = checkLimit(options.limit) ?? null;
        const { rows } = await query<DeploymentRow>(
          `SELECT ${DEPLOYMENT_COLUMNS} FROM ${s}.deployments ORDER BY id DESC LIMIT $1`,
          [limit],
        );
        return rows.map(toDeployment);
      },
    },
    adminTokens: {
      async create(record) {
        live();
        const t = checkNewAdminToken(record);
        try {
          await query(`INSERT INTO ${s}.admin_tokens (id, name, role, hash, hint, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
            t.id,
            t.name,
            t.role,
            t.hash,
            t.hint,
            t.createdAt,
          ]);
        } catch (err) {
          if (hasErrorCode(err, [UNIQUE_VIOLATION])) {
            const onHash = (err as { constraint?: string }).constraint === 'admin_tokens_hash_key';
            throw new StoreConflictError(
              onHash ? 'an admin token with this hash already exists' : `admin token id ${JSON.stringify(t.id)} already exists`,
              { cause: err },
            );
          }
          throw err;
        }
        return Object.freeze({ ...t, revokedAt: null, lastUsedAt: null });
      },
      async findByHash(hash) {
        live();
        if (typeof hash !== 'string') return undefined;
        const { rows } = await query<AdminTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM ${s}.admin_tokens WHERE hash = $1`, [hash]);
        return rows[0] ? toAdminToken(rows[0]) : undefined;
      },
      async get(id) {
        live();
        if (typeof id !== 'string') return undefined;
        const { rows } = await query<AdminTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM ${s}.admin_tokens WHERE id = $1`, [id]);
        return rows[0] ? toAdminToken(rows[0]) : undefined;
      },
      async list() {
        const { rows } = await query<AdminTokenRow>(`SELECT ${TOKEN_COLUMNS} FROM ${s}.admin_tokens ORDER BY created_at, id`);
        return rows.map(toAdminToken);
      },
      async revoke(id, at) {
        live();
        const { rowCount } = await query(`UPDATE ${s}.admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, [
          normalizeTimestamp(at, 'revokedAt'),
          id,
        ]);
        return (rowCount ?? 0) > 0;
      },
      async touch(id, at) {
        live();
        // Only moves forward, so a late write from a slow node cannot make a token look less recently used.
        await query(
          `UPDATE ${s}.admin_tokens SET last_used_at = $1
           WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`,
          [normalizeTimestamp(at, 'lastUsedAt'), id],
        );
      },
      async countActive() {
        const { rows } = await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.admin_tokens WHERE revoked_at IS NULL`);
        return rows[0].n;
      },
    },
    meta: {
      async get(key) {
        live();
        const { rows } = await query<{ value: string }>(`SELECT value FROM ${s}.meta WHERE key = $1`, [checkMetaKey(key)]);
        return rows[0]?.value;
      },
      async setIfAbsent(key, value) {
        live();
        checkMetaKey(key);
        checkMetaValue(value);
        // ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to commit; the SELECT that
        // follows is a new statement with a new snapshot (READ COMMITTED), so it sees the winner's value.
        const inserted = await query<{ value: string }>(
          `INSERT INTO ${s}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value`,
          [key, value],
        );
        if (inserted.rows[0]) return inserted.rows[0].value;
        const { rows } = await query<{ value: string }>(`SELECT value FROM ${s}.meta WHERE key = $1`, [key]);
        if (!rows[0]) throw new Error(`meta key ${JSON.stringify(key)} vanished during setIfAbsent`);
        return rows[0].value;
      },
      async set(key, value) {
        live();
        await query(
          `INSERT INTO ${s}.meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
          [checkMetaKey(key), checkMetaValue(value)],
        );
      },
    },
    apiKeys: createPostgresApiKeyStore(pool, s, () => live()),
    iam: createPostgresIamStore(pool, s, () => live()),
    audit: createPostgresAuditStore(pool, s, () => live()),
    changes: {
      async publish(channel, payload) {
        live();
        await query('SELECT pg_notify($1, $2)', [notifyChannelName(schema, checkChannel(channel)), checkPayload(payload)]);
      },
      async subscribe(channel, onPayload) {
        live();
        checkChannel(channel);
        if (typeof onPayload !== 'function') throw new TypeError('change listener must be a function');
        try {
          return await listener.listen(notifyChannelName(schema, channel), onPayload);
        } catch (err) {
          throw new Error(`cannot listen for changes on the PostgreSQL store at ${location}: ${describeError(err)}`, { cause: err });
        }
      },
    },
    async ping() {
      await query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await listener.close();
      await pool.end();
    },
  };
  return Object.freeze(store);
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

function toSummary(row: RevisionRow): RevisionSummary {
  return Object.freeze({
    number: Number(row.number),
    createdAt: iso(row.created_at),
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
  return Object.freeze({
    id: Number(row.id),
    revision: Number(row.revision),
    deployedAt: iso(row.deployed_at),
    deployedBy: row.deployed_by,
  });
}

function toAdminToken(row: AdminTokenRow): AdminTokenRecord {
  return Object.freeze({
    id: row.id,
    name: row.name,
    role: row.role,
    hash: row.hash,
    hint: row.hint,
    createdAt: iso(row.created_at),
    revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
    lastUsedAt: row.last_used_at === null ? null : iso(row.last_used_at),
  });
}
