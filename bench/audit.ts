// Audit-trail benchmark (issue 7): admin changes per second on SQLite, recorded through the trail alone and end to
// end through the admin API (a real node, API key creations, each one audited), then `audit verify` over a large log.
//   node --import tsx bench/audit.ts [--changes 5000] [--events 1000000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { systemClock } from '../src/core/clock.ts';
import { openStore } from '../src/store/open-store.ts';
import { createLogger } from '../src/observe/logger.ts';
import { createAuditTrail } from '../src/audit/audit-trail.ts';
import { loadOrCreateAuditKey } from '../src/audit/signing-key.ts';
import { startGateway } from '../src/server/start.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const CHANGES = Number(args.get('changes') ?? 5000);
const EVENTS = Number(args.get('events') ?? 1_000_000);
const logger = createLogger({ level: 'silent' });
const tmp = mkdtempSync(join(tmpdir(), 'portcullis-audit-bench-'));
const lines: string[] = [];
const say = (s: string) => (console.log(s), lines.push(s));

const change = (i: number) => ({
  eventName: 'CreateApiKey',
  userIdentity: { type: 'AdminToken' as const, principalId: 'tok_bench', userName: 'bench', role: 'operator' },
  sourceIPAddress: '127.0.0.1',
  userAgent: 'portcullis-cli/1.0',
  requestParameters: { name: `key-${i}`, plans: ['gold'], value: 'redacted-anyway' },
  responseElements: { key: { id: `k${i}`, name: `key-${i}`, enabled: true }, value: 'pck_secretsecretsecret' },
  readOnly: false,
});

try {
  // 1. The trail alone: sequential awaits (one admin request at a time) and 20 concurrent writers.
  {
    const dir = join(tmp, 'trail');
    const store = await openStore('sqlite', { dataDir: dir, clock: systemClock });
    const trail = createAuditTrail({ store: store.audit, clock: systemClock, logger, signingKey: loadOrCreateAuditKey(dir), digestIntervalMs: 0 });
    let t = performance.now();
    for (let i = 0; i < CHANGES; i++) await trail.record(change(i));
    say(`audit trail, SQLite, sequential: ${Math.round(CHANGES / ((performance.now() - t) / 1000))} events/s (${CHANGES} events)`);
    t = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < CHANGES) await trail.record(change(next++));
    }));
    say(`audit trail, SQLite, 20 concurrent writers: ${Math.round(CHANGES / ((performance.now() - t) / 1000))} events/s`);
    await trail.close();
    const report = await trail.verify();
    if (!report.ok) throw new Error(`the bench log does not verify: ${JSON.stringify(report.problems.slice(0, 3))}`);
    await store.close();
  }

  // 2. End to end: API key creations through the admin API of a real node (SQLite), each change audited.
  {
    const dir = join(tmp, 'node');
    const token = 'pcat_bench_' + 'c'.repeat(40);
    const node = await startGateway({
      dataDir: dir,
      listen: { host: '127.0.0.1', port: 0 },
      adminListen: { host: '127.0.0.1', port: 0 },
      env: { PORTCULLIS_ADMIN_TOKEN: token, PORTCULLIS_LOG_LEVEL: 'silent' },
      print: () => {},
      accessLogDestination: 'stdout',
    });
    const dispatcher = new Agent({ connections: 20, pipelining: 1 });
    const create = async (i: number) => {
      const res = await request(`${node.adminUrl}/v1/api-keys`, {
        method: 'POST',
        dispatcher,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `bench-${i}` }),
      });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`CreateApiKey answered ${res.statusCode}`);
    };
    const n = Math.min(CHANGES, 3000);
    for (let i = 0; i < 100; i++) await create(-i - 1); // warm-up
    const t = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (next < n) await create(next++);
    }));
    say(`admin API CreateApiKey end to end (SQLite, audited), 20 clients: ${Math.round(n / ((performance.now() - t) / 1000))} changes/s (${n} changes)`);
    await dispatcher.close();
    await node.close();
  }

  // 3. `audit verify` over a large log: EVENTS events appended, sealed by one digest every 10,000 events.
  {
    const dir = join(tmp, 'verify');
    const store = await openStore('sqlite', { dataDir: dir, clock: systemClock });
    const trail = createAuditTrail({ store: store.audit, clock: systemClock, logger, signingKey: loadOrCreateAuditKey(dir), digestIntervalMs: 0 });
    let t = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (next < EVENTS) {
        const i = next++;
        await trail.record(change(i));
        if (i % 10_000 === 9_999) await trail.digestNow();
      }
    }));
    await trail.digestNow();
    say(`filled ${EVENTS} events in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    const report = await trail.verify();
    const s = (performance.now() - t) / 1000;
    say(`audit verify: ${EVENTS} events in ${s.toFixed(1)} s (${Math.round(EVENTS / s)} events/s), ok=${report.ok}, problems=${report.problems.length}`);
    await store.close();
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
