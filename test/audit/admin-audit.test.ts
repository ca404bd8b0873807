// The audit trail end to end: a real gateway (SQLite in a temp dir), admin calls succeeding and failing, the events
// they leave (fields, identities, redaction), query and JSON Lines export, the CLI's `audit list` and `audit verify`
// (including after editing the SQLite file), the digest written at shutdown, and the live file and webhook sinks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ADMIN_TOKEN, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { main } from '../../src/cli/main.ts';
import { createFakeClock } from '../../src/core/clock.ts';
import { sha256Hex } from '../../src/audit/chain.ts';
import { AUDIT_PRIVATE_KEY_FILE } from '../../src/audit/signing-key.ts';

const definition = {
  apis: [{ name: 'pets', stages: { prod: {} }, routes: [{ method: 'GET', path: '/open', integration: { type: 'mock', body: { open: true } } }] }],
};

const admin = (gw: TestGateway, method: string, path: string, options: { body?: unknown; token?: string | null; ua?: string } = {}) =>
  request(gw.adminUrl, path, {
    method,
    headers: {
      ...(options.token === null ? {} : { authorization: `Bearer ${options.token ?? ADMIN_TOKEN}` }),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      'user-agent': options.ua ?? 'audit-test/1.0',
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'portcullis', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

describe('audit trail through the admin API and the CLI', () => {
  let gw: TestGateway;
  let webhook: http.Server;
  const received: string[] = [];
  const clock = createFakeClock(Date.UTC(2026, 10, 24, 9));
  const sinkDir = mkdtempSync(join(tmpdir(), 'pc-audit-sink-'));
  const sinkFile = join(sinkDir, 'audit.jsonl');

  before(async () => {
    webhook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(...body.split('\n').filter(Boolean));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    const port = (webhook.address() as { port: number }).port;
    gw = await startTestGateway(definition, {
      clock,
      audit: { file: sinkFile, webhook: `http://127.0.0.1:${port}/siem`, digestIntervalSeconds: 0 },
    });
  });
  after(async () => {
    await gw.close();
    await new Promise((r) => webhook.close(r));
    rmSync(sinkDir, { recursive: true, force: true });
  });

  const events = async (query = '') => JSON.parse((await admin(gw, 'GET', `/v1/audit/events${query}`)).body).events as any[];

  test('a start with --config is recorded as the gateway deploying the file', async () => {
    const all = await events('?event=CreateDeployment');
    assert.equal(all[0].userIdentity.type, 'Gateway');
    assert.equal(all[0].eventType, 'PortcullisServiceEvent');
    assert.equal(all[0].responseElements.revision, 1);
  });

  test('a successful change: every CloudTrail field, the token as identity, secrets redacted', async () => {
    const res = await admin(gw, 'POST', '/v1/admin-tokens', { body: { name: 'ci', role: 'operator' } });
    assert.equal(res.status, 201);
    const created = JSON.parse(res.body);
    const [event] = (await events('?event=CreateAdminToken')).filter((e) => e.userIdentity.type === 'AdminToken');
    assert.ok(event);
    assert.equal(event.eventVersion, '1.0');
    assert.equal(event.eventSource, 'portcullis.admin');
    assert.equal(event.eventTime, '2026-11-24T09:00:00.000Z');
    assert.equal(event.userIdentity.userName, 'bootstrap-env');
    assert.equal(event.userIdentity.role, 'admin');
    assert.match(event.userIdentity.principalId, /^tok_/);
    assert.equal(event.sourceIPAddress, '127.0.0.1');
    assert.equal(event.userAgent, 'audit-test/1.0');
    assert.deepEqual(event.requestParameters, { name: 'ci', role: 'operator' });
    assert.equal(event.responseElements.value, '[REDACTED]');
    assert.equal(event.responseElements.token.id, created.token.id);
    assert.equal(event.requestID, res.headers['x-request-id']);
    assert.match(event.eventID, /^[0-9a-f-]{36}$/);
    assert.equal(event.readOnly, false);
    assert.equal(event.errorCode, undefined);
    // The new token's value appears nowhere in the store.
    const db = new Database(join(gw.dir, 'portcullis.db'), { readonly: true });
    try {
      const bodies = (db.prepare('SELECT body FROM audit_events').all() as { body: string }[]).map((r) => r.body).join('\n');
      assert.ok(!bodies.includes(created.value));
      assert.ok(!bodies.includes(ADMIN_TOKEN));
    } finally {
      db.close();
    }
  });

  test('routes added by other capabilities are audited too: an API key is created, its value redacted', async () => {
    const res = await admin(gw, 'POST', '/v1/api-keys', { body: { name: 'partner' } });
    assert.equal(res.status, 201, res.body);
    const { key, value } = JSON.parse(res.body);
    const [event] = await events('?event=CreateApiKey');
    assert.equal(event.requestParameters.name, 'partner');
    assert.equal(event.responseElements.key.id, key.id);
    assert.equal(event.responseElements.value, '[REDACTED]');
    assert.ok(!JSON.stringify(await events()).includes(value));
    const del = await admin(gw, 'DELETE', `/v1/api-keys/${key.id}`);
    assert.equal(del.status, 200);
    assert.equal((await events('?event=DeleteApiKey'))[0].requestParameters.id, key.id);
  });

  test('failures are recorded: a bad token, a missing token, a role too low, a bad request', async () => {
    assert.equal((await admin(gw, 'POST', '/v1/admin-tokens', { body: { name: 'x', role: 'admin' }, token: 'pcat_' + 'Z'.repeat(40) })).status, 401);
    assert.equal((await admin(gw, 'GET', '/v1/revisions', { token: null })).status, 401);
    const op = JSON.parse((await admin(gw, 'POST', '/v1/admin-tokens', { body: { name: 'ro', role: 'read-only' } })).body).value as string;
    assert.equal((await admin(gw, 'POST', '/v1/admin-tokens', { body: { name: 'y', role: 'admin' }, token: op })).status, 403);
    assert.equal((await admin(gw, 'POST', '/v1/admin-tokens', { body: { name: 'z', role: 'root' } })).status, 400);
    const failed = (await events()).filter((e) => e.errorCode);
    const codes = failed.map((e) => `${e.eventName}:${e.errorCode}:${e.userIdentity.type}`);
    assert.deepEqual(codes, [
      'CreateAdminToken:UNAUTHENTICATED:Anonymous',
      'ListRevisions:UNAUTHENTICATED:Anonymous',
      'CreateAdminToken:FORBIDDEN:AdminToken',
      'CreateAdminToken:BAD_REQUEST:AdminToken',
    ]);
    assert.match(failed[2].errorMessage, /admin role/);
    assert.equal(failed[2].userIdentity.role, 'read-only');
    assert.equal(failed[1].readOnly, true);
    assert.equal(failed[0].responseElements, null);
  });

  test('successful reads are not recorded by default', async () => {
    assert.equal((await admin(gw, 'GET', '/v1/revisions')).status, 200);
    assert.equal((await events('?event=ListRevisions')).filter((e) => !e.errorCode).length, 0);
  });

  test('deploy is recorded with a summary of the definition, not its text', async () => {
    const res = await request(gw.adminUrl, '/v1/deployments?comment=second', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...definition, apis: [{ ...definition.apis[0], name: 'pets2' }] }),
    });
    assert.equal(res.status, 201);
    const [event] = (await events('?event=CreateDeployment')).filter((e) => e.userIdentity.type === 'AdminToken');
    assert.equal(event.requestParameters.query.comment, 'second');
    assert.equal(event.requestParameters.definition.format, 'json');
    assert.match(event.requestParameters.definition.sha256, /^[0-9a-f]{64}$/);
    assert.equal(event.responseElements.revision.number, 2);
  });

  test('query by actor and time, paging, JSON Lines export', async () => {
    const all = await events();
    const mine = all.filter((e) => e.userIdentity.userName === 'bootstrap-env');
    assert.deepEqual((await events(`?actor=${mine[0].userIdentity.principalId}`)).map((e) => e.eventID), mine.map((e) => e.eventID));
    assert.equal((await events('?since=2026-11-25T00:00:00Z')).length, 0);
    const page = JSON.parse((await admin(gw, 'GET', '/v1/audit/events?limit=2')).body);
    assert.equal(page.events.length, 2);
    assert.equal(page.nextAfter, 2);
    const jsonl = await admin(gw, 'GET', '/v1/audit/events?format=jsonl');
    assert.equal(jsonl.headers['content-type'], 'application/x-ndjson');
    const lines = jsonl.body.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, all.length);
    assert.ok(lines.every((e, i) => e.sequenceNumber === i + 1));
    assert.equal((await admin(gw, 'GET', '/v1/audit/events?bogus=1')).status, 400);
  });

  test('the CLI lists (table, --event, --jsonl) through the admin API', async () => {
    const env = { PORTCULLIS_ADMIN_URL: gw.adminUrl, PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN };
    const table = await cli(['audit', 'list', '--event', 'CreateAdminToken'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /CreateAdminToken/);
    assert.match(table.stdout, /UNAUTHENTICATED/);
    const jsonl = await cli(['audit', 'list', '--jsonl', '--since', '2026-11-24T00:00:00Z'], env);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    assert.ok(jsonl.stdout.trim().split('\n').every((l) => JSON.parse(l).eventVersion === '1.0'));
  });

  test('public key, on-demand digest and server-side verification', async () => {
    const key = JSON.parse((await admin(gw, 'GET', '/v1/audit/public-key')).body);
    assert.match(key.publicKeyPem, /BEGIN PUBLIC KEY/);
    assert.equal(key.algorithm, 'Ed25519');
    const digest = await admin(gw, 'POST', '/v1/audit/digests');
    assert.equal(digest.status, 201);
    assert.equal(JSON.parse(digest.body).digest.body.publicKeyFingerprint, key.fingerprint);
    const report = JSON.parse((await admin(gw, 'GET', '/v1/audit/verify')).body);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(statSync(join(gw.dir, AUDIT_PRIVATE_KEY_FILE)).mode & 0o777, 0o600);
  });

  test('reads are recorded when configured', async () => {
    const other = await startTestGateway(definition, { audit: { reads: true, digestIntervalSeconds: 0 } });
    try {
      assert.equal((await admin(other, 'GET', '/v1/revisions')).status, 200);
      const list = JSON.parse((await admin(other, 'GET', '/v1/audit/events?event=ListRevisions')).body).events;
      assert.equal(list.length, 1);
      assert.equal(list[0].readOnly, true);
      assert.equal(list[0].responseElements, null);
    } finally {
      await other.close();
    }
  });

  test('the live copies: the file and the webhook receive every event as JSON Lines', async () => {
    const all = await events();
    const fileLines = readFileSync(sinkFile, 'utf8').trim().split('\n');
    // The lookups themselves are reads and are not recorded, so the file holds exactly the stored events.
    assert.deepEqual(fileLines.map((l) => JSON.parse(l).eventID), all.map((e) => e.eventID));
    for (let i = 0; i < 50 && received.length < all.length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(received.map((l) => JSON.parse(l).eventID), all.map((e) => e.eventID));
  });

  test('shutdown seals the chain; `audit verify` passes, then names an edit made in the SQLite file', async () => {
    await admin(gw, 'POST', '/v1/admin-tokens', { body: { name: 'last', role: 'admin' } });
    await gw.gateway.close();
    const ok = await cli(['audit', 'verify', '--data-dir', gw.dir]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /✓ \d+ events/);
    assert.doesNotMatch(ok.stdout, /not yet sealed/);

    const db = new Database(join(gw.dir, 'portcullis.db'));
    try {
      db.exec('DROP TRIGGER audit_events_no_update');
      const row = db.prepare('SELECT seq, body FROM audit_events WHERE event_name = ? ORDER BY seq LIMIT 1').get('ValidateDefinition') as
        | { seq: number; body: string }
        | undefined;
      const target = row ?? (db.prepare('SELECT seq, body FROM audit_events WHERE seq = 3').get() as { seq: number; body: string });
      const body = target.body.replace('"role":"operator"', '"role":"admin"').replace(/"userAgent":"[^"]*"/, '"userAgent":"forged"');
      db.prepare('UPDATE audit_events SET body = ?, hash = ? WHERE seq = ?').run(body, sha256Hex(body), target.seq);
      const bad = await cli(['audit', 'verify', '--data-dir', gw.dir, '--json']);
      assert.equal(bad.code, 1);
      const report = JSON.parse(bad.stdout);
      assert.deepEqual(report.problems.map((p: { kind: string; seq: number }) => `${p.kind}@${p.seq}`), [`modified@${target.seq}`]);
    } finally {
      db.close();
    }
  });
});
