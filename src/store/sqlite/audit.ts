// The audit sub-port on SQLite: append-only event and digest tables (triggers refuse UPDATE and DELETE), chained
// inside an IMMEDIATE transaction so two processes on one file cannot both append after the same head.
import type Database from 'better-sqlite3';
import {
  AUDIT_LIST_MAX,
  type AuditDigestRow,
  type AuditEventRow,
  type AuditListOptions,
  type AuditStore,
} from '../audit-port.ts';

export const SQLITE_AUDIT_SQL = `
  CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    event_id    TEXT NOT NULL UNIQUE,
    event_time  TEXT NOT NULL,
    event_name  TEXT NOT NULL,
    actor       TEXT,
    body        TEXT NOT NULL,
    hash        TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_events_time ON audit_events (event_time);
  CREATE INDEX audit_events_name ON audit_events (event_name, seq);
  CREATE INDEX audit_events_actor ON audit_events (actor, seq);

  -- Append-only: the hash chain detects tampering, these make the ordinary paths refuse it.
  CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
  CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

  CREATE TABLE audit_digests (
    seq         INTEGER PRIMARY KEY,
    from_seq    INTEGER NOT NULL UNIQUE,
    to_seq      INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    body        TEXT NOT NULL,
    signature   TEXT NOT NULL
  ) STRICT;
  CREATE TRIGGER audit_digests_no_update BEFORE UPDATE ON audit_digests
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
  CREATE TRIGGER audit_digests_no_delete BEFORE DELETE ON audit_digests
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
`;

interface EventRow {
  seq: number;
  event_id: string;
  event_time: string;
  event_name: string;
  actor: string | null;
  body: string;
  hash: string;
}
interface DigestRow {
  seq: number;
  from_seq: number;
  to_seq: number;
  created_at: string;
  body: string;
  signature: string;
}

const toEvent = (r: EventRow): AuditEventRow => ({
  seq: r.seq,
  eventId: r.event_id,
  eventTime: r.event_time,
  eventName: r.event_name,
  actor: r.actor,
  body: r.body,
  hash: r.hash,
});
const toDigest = (r: DigestRow): AuditDigestRow => ({
  seq: r.seq,
  fromSeq: r.from_seq,
  toSeq: r.to_seq,
  createdAt: r.created_at,
  body: r.body,
  signature: r.signature,
});

export function createSqliteAuditStore(db: Database.Database, live: () => void): AuditStore {
  const sql = {
    head: db.prepare<[], EventRow>('SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1'),
    insert: db.prepare(
      'INSERT INTO audit_events (seq, event_id, event_time, event_name, actor, body, hash) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    lastDigest: db.prepare<[], DigestRow>('SELECT * FROM audit_digests ORDER BY seq DESC LIMIT 1'),
    insertDigest: db.prepare(
      'INSERT INTO audit_digests (seq, from_seq, to_seq, created_at, body, signature) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    digests: db.prepare<[number, number], DigestRow>('SELECT * FROM audit_digests WHERE seq > ? ORDER BY seq LIMIT ?'),
  };

  const append = db.transaction((build: Parameters<AuditStore['append']>[0]): AuditEventRow => {
    const head = sql.head.get();
    const next = build(head ? { seq: head.seq, hash: head.hash } : undefined);
    const seq = (head?.seq ?? 0) + 1;
    sql.insert.run(seq, next.eventId, next.eventTime, next.eventName, next.actor, next.body, next.hash);
    return { seq, ...next };
  });
  const appendDigest = db.transaction((build: Parameters<AuditStore['appendDigest']>[0]): AuditDigestRow | undefined => {
    const head = sql.head.get();
    const previous = sql.lastDigest.get();
    const next = build(head && toEvent(head), previous && toDigest(previous));
    if (!next) return undefined;
    const seq = (previous?.seq ?? 0) + 1;
    sql.insertDigest.run(seq, next.fromSeq, next.toSeq, next.createdAt, next.body, next.signature);
    return { seq, ...next };
  });

  // Group commit: appends arriving in the same turn of the event loop share one IMMEDIATE transaction, so one
  // fsync (synchronous = FULL) seals a batch instead of each event: about 300 -> several thousand events/s under
  // concurrent admin traffic. Each caller still gets its own row, in chain order.
  type Pending = { build: Parameters<AuditStore['append']>[0]; resolve: (row: AuditEventRow) => void; reject: (err: unknown) => void };
  let queue: Pending[] = [];
  const appendBatch = db.transaction((items: Pending[]): AuditEventRow[] => {
    const head = sql.head.get();
    let prev = head ? { seq: head.seq, hash: head.hash } : undefined;
    const rows: AuditEventRow[] = [];
    for (const item of items) {
      const next = item.build(prev);
      const seq = (prev?.seq ?? 0) + 1;
      sql.insert.run(seq, next.eventId, next.eventTime, next.eventName, next.actor, next.body, next.hash);
      rows.push({ seq, ...next });
      prev = { seq, hash: next.hash };
    }
    return rows;
  });
  const flush = () => {
    const items = queue;
    queue = [];
    try {
      const rows = appendBatch.immediate(items);
      items.forEach((item, i) => item.resolve(rows[i]!));
    } catch {
      // One bad event must not fail the others: retry each alone, each with its own outcome.
      for (const item of items) {
        try {
          item.resolve(append.immediate(item.build));
        } catch (err) {
          item.reject(err);
        }
      }
    }
  };

  return {
    append(build) {
      try {
        live();
      } catch (err) {
        return Promise.reject(err);
      }
      return new Promise<AuditEventRow>((resolve, reject) => {
        if (queue.push({ build, resolve, reject }) === 1) setImmediate(flush);
      });
    },
    async head() {
      live();
      const row = sql.head.get();
      return row && { seq: row.seq, hash: row.hash };
    },
    async list(options: AuditListOptions = {}) {
      live();
      const where: string[] = [];
      const values: unknown[] = [];
      const add = (clause: string, value: unknown) => {
        where.push(clause);
        values.push(value);
      };
      if (options.afterSeq !== undefined) add('seq > ?', options.afterSeq);
      if (options.fromSeq !== undefined) add('seq >= ?', options.fromSeq);
      if (options.toSeq !== undefined) add('seq <= ?', options.toSeq);
      if (options.since !== undefined) add('event_time >= ?', options.since);
      if (options.until !== undefined) add('event_time <= ?', options.until);
      if (options.eventName !== undefined) add('event_name = ?', options.eventName);
      if (options.actor !== undefined) add('actor = ?', options.actor);
      const limit = Math.min(options.limit ?? AUDIT_LIST_MAX, AUDIT_LIST_MAX);
      const rows = db
        .prepare(`SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`)
        .all(...values, limit) as EventRow[];
      return rows.map(toEvent);
    },
    async appendDigest(build) {
      live();
      return appendDigest.immediate(build);
    },
    async digests({ afterSeq = 0, limit = AUDIT_LIST_MAX } = {}) {
      live();
      return sql.digests.all(afterSeq, Math.min(limit, AUDIT_LIST_MAX)).map(toDigest);
    },
  };
}
