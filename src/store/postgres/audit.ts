// The audit sub-port on PostgreSQL: append-only event and digest tables (a trigger refuses UPDATE, DELETE and
// TRUNCATE), chained under a transaction-scoped advisory lock so gateway nodes sharing the schema append in turn.
import type pg from 'pg';
import {
  AUDIT_LIST_MAX,
  type AuditDigestRow,
  type AuditEventRow,
  type AuditListOptions,
  type AuditStore,
} from '../audit-port.ts';
import { inTransaction } from './pg-transaction.ts';

export const postgresAuditSql = (s: string): string => `
  CREATE TABLE ${s}.audit_events (
    seq         bigint PRIMARY KEY,
    event_id    text   NOT NULL UNIQUE,
    event_time  text   NOT NULL,
    event_name  text   NOT NULL,
    actor       text,
    body        text   NOT NULL,
    hash        text   NOT NULL
  );
  CREATE INDEX audit_events_time ON ${s}.audit_events (event_time);
  CREATE INDEX audit_events_name ON ${s}.audit_events (event_name, seq);
  CREATE INDEX audit_events_actor ON ${s}.audit_events (actor, seq);

  CREATE TABLE ${s}.audit_digests (
    seq         bigint PRIMARY KEY,
    from_seq    bigint NOT NULL UNIQUE,
    to_seq      bigint NOT NULL,
    created_at  text   NOT NULL,
    body        text   NOT NULL,
    signature   text   NOT NULL
  );

  -- Append-only: the hash chain detects tampering, this makes the ordinary paths refuse it.
  CREATE FUNCTION ${s}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
  END
  $$;
  CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON ${s}.audit_events
    FOR EACH ROW EXECUTE FUNCTION ${s}.audit_append_only();
  CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON ${s}.audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_append_only();
  CREATE TRIGGER audit_digests_append_only BEFORE UPDATE OR DELETE ON ${s}.audit_digests
    FOR EACH ROW EXECUTE FUNCTION ${s}.audit_append_only();
  CREATE TRIGGER audit_digests_no_truncate BEFORE TRUNCATE ON ${s}.audit_digests
    FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_append_only();
`;

interface EventRow {
  seq: string;
  event_id: string;
  event_time: string;
  event_name: string;
  actor: string | null;
  body: string;
  hash: string;
}
interface DigestRow {
  seq: string;
  from_seq: string;
  to_seq: string;
  created_at: string;
  body: string;
  signature: string;
}

const toEvent = (r: EventRow): AuditEventRow => ({
  seq: Number(r.seq),
  eventId: r.event_id,
  eventTime: r.event_time,
  eventName: r.event_name,
  actor: r.actor,
  body: r.body,
  hash: r.hash,
});
const toDigest = (r: DigestRow): AuditDigestRow => ({
  seq: Number(r.seq),
  fromSeq: Number(r.from_seq),
  toSeq: Number(r.to_seq),
  createdAt: r.created_at,
  body: r.body,
  signature: r.signature,
});

/** Advisory lock class "PCAU" (audit); the second half is a hash of the schema name. */
const LOCK_CLASS = 0x50434155;

export function createPostgresAuditStore(pool: pg.Pool, s: string, live: () => void): AuditStore {
  async function locked<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    live();
    return inTransaction(pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, s]);
      return fn(c);
    });
  }
  const headSql = `SELECT * FROM ${s}.audit_events ORDER BY seq DESC LIMIT 1`;

  return {
    append(build) {
      return locked(async (c) => {
        const head = (await c.query<EventRow>(headSql)).rows[0];
        const next = build(head ? { seq: Number(head.seq), hash: head.hash } : undefined);
        const seq = (head ? Number(head.seq) : 0) + 1;
        await c.query(
          `INSERT INTO ${s}.audit_events (seq, event_id, event_time, event_name, actor, body, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [seq, next.eventId, next.eventTime, next.eventName, next.actor, next.body, next.hash],
        );
        return { seq, ...next };
      });
    },
    async head() {
      live();
      const row = (await pool.query<EventRow>(headSql)).rows[0];
      return row && { seq: Number(row.seq), hash: row.hash };
    },
    async list(options: AuditListOptions = {}) {
      live();
      const where: string[] = [];
      const values: unknown[] = [];
      const add = (clause: string, value: unknown) => {
        values.push(value);
        where.push(clause.replace('?', `$${values.length}`));
      };
      if (options.afterSeq !== undefined) add('seq > ?', options.afterSeq);
      if (options.fromSeq !== undefined) add('seq >= ?', options.fromSeq);
      if (options.toSeq !== undefined) add('seq <= ?', options.toSeq);
      if (options.since !== undefined) add('event_time >= ?', options.since);
      if (options.until !== undefined) add('event_time <= ?', options.until);
      if (options.eventName !== undefined) add('event_name = ?', options.eventName);
      if (options.actor !== undefined) add('actor = ?', options.actor);
      values.push(Math.min(options.limit ?? AUDIT_LIST_MAX, AUDIT_LIST_MAX));
      const { rows } = await pool.query<EventRow>(
        `SELECT * FROM ${s}.audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${values.length}`,
        values,
      );
      return rows.map(toEvent);
    },
    appendDigest(build) {
      return locked(async (c) => {
        const head = (await c.query<EventRow>(headSql)).rows[0];
        const previous = (await c.query<DigestRow>(`SELECT * FROM ${s}.audit_digests ORDER BY seq DESC LIMIT 1`)).rows[0];
        const next = build(head && toEvent(head), previous && toDigest(previous));
        if (!next) return undefined;
        const seq = (previous ? Number(previous.seq) : 0) + 1;
        await c.query(
          `INSERT INTO ${s}.audit_digests (seq, from_seq, to_seq, created_at, body, signature) VALUES ($1, $2, $3, $4, $5, $6)`,
          [seq, next.fromSeq, next.toSeq, next.createdAt, next.body, next.signature],
        );
        return { seq, ...next };
      });
    },
    async digests({ afterSeq = 0, limit = AUDIT_LIST_MAX } = {}) {
      live();
      const { rows } = await pool.query<DigestRow>(`SELECT * FROM ${s}.audit_digests WHERE seq > $1 ORDER BY seq LIMIT $2`, [
        afterSeq,
        Math.min(limit, AUDIT_LIST_MAX),
      ]);
      return rows.map(toDigest);
    },
  };
}
