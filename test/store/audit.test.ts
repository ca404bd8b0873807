// The audit sub-port contract (chained append, head, filters, digests, append-only triggers) and tamper detection:
// events and digests are edited, deleted, inserted and truncated in the real SQLite file and the real PostgreSQL
// table, and `verifyAuditTrail` must name each change exactly.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createSqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { createPostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { quoteIdentifier } from '../../src/store/postgres/pg-names.ts';
import type { Store } from '../../src/store/ports.ts';
import { createFakeClock } from '../../src/core/clock.ts';
import { createLogger } from '../../src/observe/logger.ts';
import { createAuditTrail, type AuditTrail } from '../../src/audit/audit-trail.ts';
import { loadOrCreateAuditKey, readPublicKeys } from '../../src/audit/signing-key.ts';
import { verifyAuditTrail } from '../../src/audit/verify.ts';
import { canonicalJson } from '../../src/audit/canonical-json.ts';
import { GENESIS_HASH, sha256Hex } from '../../src/audit/chain.ts';
import { TEST_PG_URL, createTestSchemas, requirePostgres } from './pg-test-env.ts';

/** Raw access to the tables behind the store, as an attacker with the file or a database login has. */
interface Raw {
  /** SQL with `?` placeholders and `T.` before table names. */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Removes the append-only protection, as someone with file or owner access can. */
  disableTriggers(): Promise<void>;
  close(): Promise<void>;
}

interface Opened {
  store: Store;
  raw(): Promise<Raw>;
}

const root = mkdtempSync(join(tmpdir(), 'pc-audit-'));
after(() => rmSync(root, { recursive: true, force: true }));
const key = loadOrCreateAuditKey(join(root, 'keys'));
const trusted = readPublicKeys([key.publicKeyPem]);
const logger = createLogger({ level: 'silent' });

function trailOn(store: Store): AuditTrail {
  const clock = createFakeClock(Date.UTC(2026, 10, 24, 12));
  return createAuditTrail({ store: store.audit, clock, logger, signingKey: key, digestIntervalMs: 0 });
}

async function seed(trail: AuditTrail, n: number, offset = 0): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await trail.record({
      eventName: i % 2 ? 'CreateApiKey' : 'DeleteApiKey',
      userIdentity: { type: 'AdminToken', principalId: `tok_${(i + offset) % 3}`, userName: 'ci', role: 'admin' },
      requestParameters: { name: `k${i + offset}`, value: 'pck_secretsecretsecret' },
      readOnly: false,
    });
  }
}

function contract(kind: string, open: (ns: string) => Promise<Opened>): void {
  describe(`audit store contract: ${kind}`, () => {
    let n = 0;
    const fresh = () => open(`au${++n}`);

    test('append chains each event onto the previous one; list filters; digests seal the head', async () => {
      const { store } = await fresh();
      try {
        assert.equal(await store.audit.head(), undefined);
        const trail = trailOn(store);
        assert.equal(await trail.digestNow(), undefined, 'nothing to seal yet');
        await seed(trail, 6);
        const rows = await store.audit.list();
        assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3, 4, 5, 6]);
        const first = JSON.parse(rows[0]!.body);
        assert.equal(first.previousHash, GENESIS_HASH);
        assert.equal(first.sequenceNumber, 1);
        assert.equal(first.requestParameters.value, '[REDACTED]');
        for (let i = 0; i < rows.length; i++) {
          assert.equal(rows[i]!.hash, sha256Hex(rows[i]!.body));
          assert.equal(rows[i]!.body, canonicalJson(JSON.parse(rows[i]!.body)), 'stored canonically');
          if (i > 0) assert.equal(JSON.parse(rows[i]!.body).previousHash, rows[i - 1]!.hash);
        }
        assert.deepEqual(await store.audit.head(), { seq: 6, hash: rows[5]!.hash });
        assert.deepEqual((await store.audit.list({ eventName: 'DeleteApiKey' })).map((r) => r.seq), [2, 4, 6]);
        assert.deepEqual((await store.audit.list({ actor: 'tok_1' })).map((r) => r.seq), [1, 4]);
        assert.deepEqual((await store.audit.list({ afterSeq: 4 })).map((r) => r.seq), [5, 6]);
        assert.deepEqual((await store.audit.list({ fromSeq: 2, toSeq: 3 })).map((r) => r.seq), [2, 3]);
        assert.deepEqual((await store.audit.list({ limit: 2 })).map((r) => r.seq), [1, 2]);
        assert.equal((await store.audit.list({ since: '2026-11-24T12:00:00.000Z', until: '2026-11-24T12:00:00.000Z' })).length, 6);
        assert.equal((await store.audit.list({ since: '2026-11-25T00:00:00.000Z' })).length, 0);

        const d1 = await trail.digestNow();
        assert.ok(d1);
        assert.equal(d1.fromSeq, 1);
        assert.equal(d1.toSeq, 6);
        assert.equal(JSON.parse(d1.body).headHash, rows[5]!.hash);
        assert.equal(await trail.digestNow(), undefined, 'no new events, no digest');
        await seed(trail, 2);
        const d2 = await trail.digestNow();
        assert.equal(d2?.fromSeq, 7);
        assert.equal(JSON.parse(d2!.body).previousDigestSignature, d1.signature);
        assert.deepEqual((await store.audit.digests()).map((d) => d.seq), [1, 2]);
        const report = await verifyAuditTrail(store.audit, trusted);
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        assert.equal(report.eventsChecked, 8);
        assert.equal(report.digestsChecked, 2);
        assert.equal(report.unsignedTail, 0);
      } finally {
        await store.close();
      }
    });

    test('concurrent appends keep one unbroken chain', async () => {
      const { store } = await fresh();
      try {
        const trail = trailOn(store);
        await Promise.all(Array.from({ length: 40 }, (_, i) => trail.record({ eventName: `E${i}`, userIdentity: { type: 'Anonymous' }, readOnly: false })));
        const report = await verifyAuditTrail(store.audit, trusted);
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        assert.equal(report.eventsChecked, 40);
      } finally {
        await store.close();
      }
    });

    test('UPDATE, DELETE (and TRUNCATE) of events and digests are refused', async () => {
      const { store, raw } = await fresh();
      const r = await raw();
      try {
        const trail = trailOn(store);
        await seed(trail, 2);
        await trail.digestNow();
        await assert.rejects(r.query("UPDATE T.audit_events SET event_name = 'x' WHERE seq = 1"), /append-only/);
        await assert.rejects(r.query('DELETE FROM T.audit_events WHERE seq = 2'), /append-only/);
        await assert.rejects(r.query("UPDATE T.audit_digests SET signature = 'x'"), /append-only/);
        await assert.rejects(r.query('DELETE FROM T.audit_digests'), /append-only/);
        if (kind === 'postgres') await assert.rejects(r.query('TRUNCATE T.audit_events'), /append-only/);
        assert.equal((await store.audit.list()).length, 2);
      } finally {
        await r.close();
        await store.close();
      }
    });

    /** 12 events, a digest over 1..10 and 11..12 unsigned; `tamper` edits the raw tables; returns the problems. */
    async function tampered(tamper: (r: Raw) => Promise<void>) {
      const { store, raw } = await fresh();
      const r = await raw();
      try {
        const trail = trailOn(store);
        await seed(trail, 10);
        await trail.digestNow();
        await seed(trail, 2, 10);
        await r.disableTriggers();
        await tamper(r);
        return await verifyAuditTrail(store.audit, trusted);
      } finally {
        await r.close();
        await store.close();
      }
    }
    const kinds = (report: Awaited<ReturnType<typeof tampered>>) => report.problems.map((p) => `${p.kind}@${p.seq}`);
    const bodyOf = async (r: Raw, seq: number) => String((await r.query('SELECT body FROM T.audit_events WHERE seq = ?', [seq]))[0]!.body);

    test('tamper: an intact log verifies, with the unsigned tail reported', async () => {
      const report = await tampered(async () => {});
      assert.deepEqual(kinds(report), []);
      assert.equal(report.unsignedTail, 2);
    });

    test('tamper: an edited event (hash left alone) is reported as modified', async () => {
      const report = await tampered(async (r) => {
        const body = (await bodyOf(r, 4)).replace('"CreateApiKey"', '"ListApiKeys"').replace('"DeleteApiKey"', '"ListApiKeys"');
        await r.query('UPDATE T.audit_events SET body = ? WHERE seq = 4', [body]);
      });
      assert.deepEqual(kinds(report), ['modified@4']);
    });

    test('tamper: an edited and re-hashed event is reported as modified', async () => {
      const report = await tampered(async (r) => {
        const body = (await bodyOf(r, 4)).replace('"tok_', '"tok_evil');
        await r.query('UPDATE T.audit_events SET body = ?, hash = ? WHERE seq = 4', [body, sha256Hex(body)]);
      });
      assert.deepEqual(kinds(report), ['modified@4']);
    });

    test('tamper: a re-hashed event sealed by a digest is reported by the digest', async () => {
      const report = await tampered(async (r) => {
        const body = (await bodyOf(r, 10)).replace('"tok_', '"tok_evil');
        await r.query('UPDATE T.audit_events SET body = ?, hash = ? WHERE seq = 10', [body, sha256Hex(body)]);
      });
      // Event 11 remembers the original hash, and the digest signed it.
      assert.deepEqual(kinds(report), ['modified@10', 'digest-mismatch@10']);
    });

    test('tamper: a deleted event is reported with its sequence number', async () => {
      const report = await tampered(async (r) => {
        await r.query('DELETE FROM T.audit_events WHERE seq = 5');
      });
      assert.deepEqual(kinds(report), ['deleted@5']);
      assert.equal(report.problems[0]!.toSeq, 5);
    });

    test('tamper: an inserted event is reported as inserted', async () => {
      const report = await tampered(async (r) => {
        // Make room after event 6 (two steps: the primary key is checked row by row), then forge event 7.
        await r.query('UPDATE T.audit_events SET seq = -(seq + 1) WHERE seq > 6');
        await r.query('UPDATE T.audit_events SET seq = -seq WHERE seq < 0');
        const six = (await r.query('SELECT hash FROM T.audit_events WHERE seq = 6'))[0]!.hash as string;
        const forged = canonicalJson({ ...JSON.parse(await bodyOf(r, 8)), eventID: randomUUID(), eventName: 'CreateAdminToken', sequenceNumber: 7, previousHash: six });
        await r.query('INSERT INTO T.audit_events (seq, event_id, event_time, event_name, actor, body, hash) VALUES (?, ?, ?, ?, ?, ?, ?)', [
          7, randomUUID(), '2026-11-24T12:00:00.000Z', 'CreateAdminToken', 'tok_1', forged, sha256Hex(forged),
        ]);
      });
      assert.deepEqual(kinds(report), ['inserted@7']);
    });

    test('tamper: a truncated log is reported where it ends', async () => {
      const report = await tampered(async (r) => {
        await r.query('DELETE FROM T.audit_events WHERE seq >= 9');
      });
      assert.deepEqual(kinds(report), ['truncated@9']);
      assert.equal(report.problems[0]!.toSeq, 10);
    });

    test('tamper: a forged digest and a deleted digest are reported', async () => {
      const forged = await tampered(async (r) => {
        const body = String((await r.query('SELECT body FROM T.audit_digests WHERE seq = 1'))[0]!.body).replace('"toSequenceNumber":10', '"toSequenceNumber":9');
        await r.query('UPDATE T.audit_digests SET body = ? WHERE seq = 1', [body]);
      });
      assert.ok(kinds(forged).includes('digest-signature@1'), kinds(forged).join());
      const deleted = await tampered(async (r) => {
        await r.query('DELETE FROM T.audit_digests WHERE seq = 1');
      });
      // The only digest is gone: the events still chain, but nothing past the tail is signed any more.
      assert.deepEqual(kinds(deleted), []);
      assert.equal(deleted.unsignedTail, 12);
    });
  });
}

contract('sqlite', async (ns) => {
  const file = join(root, ns, 'store.db');
  const store = await createSqliteStore({ file });
  return {
    store,
    async raw() {
      const db = new Database(file);
      return {
        async query(sql, params = []) {
          const text = sql.replaceAll('T.', '');
          const stmt = db.prepare(text);
          return stmt.reader ? (stmt.all(...params) as Record<string, unknown>[]) : (stmt.run(...params), []);
        },
        async disableTriggers() {
          for (const t of ['audit_events_no_update', 'audit_events_no_delete', 'audit_digests_no_update', 'audit_digests_no_delete']) {
            db.exec(`DROP TRIGGER ${t}`);
          }
        },
        async close() {
          db.close();
        },
      };
    },
  };
});

if (await requirePostgres('audit store contract: postgres')) {
  const schemas = createTestSchemas();
  after(() => schemas.dropAll());
  contract('postgres', async (ns) => {
    const schema = schemas.name(ns);
    const store = await createPostgresStore({ url: TEST_PG_URL, schema, poolSize: 3 });
    return {
      store,
      async raw() {
        const client = new pg.Client({ connectionString: TEST_PG_URL });
        await client.connect();
        const s = quoteIdentifier(schema);
        return {
          async query(sql, params = []) {
            let i = 0;
            const text = sql.replaceAll('T.', `${s}.`).replace(/\?/g, () => `$${++i}`);
            return (await client.query(text, params)).rows;
          },
          async disableTriggers() {
            await client.query(`ALTER TABLE ${s}.audit_events DISABLE TRIGGER USER`);
            await client.query(`ALTER TABLE ${s}.audit_digests DISABLE TRIGGER USER`);
          },
          close: () => client.end(),
        };
      },
    };
  });
}
