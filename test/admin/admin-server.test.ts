// The admin API over real HTTP (port 0) on a real SQLite store with a fake installer: the role matrix for
// every route, error shapes, deploy/rollback round trip, OpenAPI consistency, 404/405/413 and no leaks.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeClock } from '../../src/core/clock.ts';
import { createControlPlane, type ControlPlane } from '../../src/control/control-plane.ts';
import { ADMIN_ROUTES, createAdminServer, type AdminServer } from '../../src/admin/admin-server.ts';
import { ADMIN_ERRORS } from '../../src/admin/admin-errors.ts';
import { ADMIN_OPENAPI, ROLE_EXTENSION } from '../../src/admin/openapi.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { AdminRole, Store } from '../../src/store/ports.ts';
import { createCapturingLogger, createFakeInstaller, definitionYaml, type FakeInstaller } from '../control/helpers.ts';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Parsed body (any: each test reads the fields it checks). */
  json: any;
}

interface Harness {
  url: string;
  port: number;
  store: Store;
  cp: ControlPlane;
  installer: FakeInstaller;
  server: AdminServer;
  lines: string[];
  tokens: Record<AdminRole, string>;
  ready: { value: boolean };
  metricsFail: { value: boolean };
}

let h: Harness;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-admin-'));
  const clock = createFakeClock();
  const store = await openStore('sqlite', { dataDir: dir, clock });
  const installer = createFakeInstaller();
  const { logger, lines } = createCapturingLogger();
  const cp = createControlPlane({ store, installer, clock, logger });
  await cp.start();
  const ready = { value: true };
  const metricsFail = { value: false };
  const server = createAdminServer({
    controlPlane: cp,
    metrics: {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      async render() {
        if (metricsFail.value) throw new Error('SECRET-DETAIL from the metrics registry');
        return '# HELP up 1\nup 1\n';
      },
    },
    readiness: async () => ({ ready: ready.value, checks: { store: 'ok', snapshot: ready.value ? 'revision 1' : 'no revision deployed' } }),
    logger,
    clock,
  });
  const address = await server.listen('127.0.0.1', 0);
  const tokens = {} as Record<AdminRole, string>;
  for (const role of ['admin', 'operator', 'read-only'] as const) {
    tokens[role] = (await cp.createToken({ name: `${role}-token`, role }, 'test')).value;
  }
  h = { url: `http://127.0.0.1:${address.port}`, port: address.port, store, cp, installer, server, lines, tokens, ready, metricsFail };
});

afterEach(async () => {
  await h.server.close();
  await h.cp.stop();
  await h.store.close();
  await rm(dir, { recursive: true, force: true });
});

function call(
  method: string,
  path: string,
  options: { token?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: h.port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const yaml = { 'content-type': 'application/yaml' };

/** A request each route accepts from a token with enough rights (path parameters and bodies filled in). */
function sampleRequest(method: string, path: string): { path: string; body?: string; headers?: Record<string, string> } {
  const concrete = path.replace('{revision}', '1').replace('{id}', 'tok_doesnotexist');
  if (method === 'POST' && (path === '/v1/deployments' || path === '/v1/validate')) {
    return { path: concrete, body: definitionYaml('one'), headers: yaml };
  }
  if (method === 'POST' && path === '/v1/admin-tokens') {
    return { path: concrete, body: JSON.stringify({ name: 'made', role: 'read-only' }), headers: { 'content-type': 'application/json' } };
  }
  return { path: concrete };
}

const RANK: Record<AdminRole, number> = { 'read-only': 0, operator: 1, admin: 2 };

describe('authentication and roles', () => {
  test('every route: 401 without or with a bad token, 403 for a weaker role, allowed otherwise', async () => {
    await h.cp.deploy({ source: definitionYaml('one'), actor: 'test' });
    for (const route of ADMIN_ROUTES) {
      const sample = sampleRequest(route.method, route.path);
      const label = `${route.method} ${route.path}`;
      const anonymous = await call(route.method, sample.path, { body: sample.body, headers: sample.headers });
      assert.ok(anonymous.headers['x-request-id'], `${label}: x-request-id`);
      if (route.role === null) {
        assert.ok(anonymous.status < 400, `${label} is public: ${anonymous.status} ${anonymous.text}`);
        continue;
      }
      assert.equal(anonymous.status, 401, label);
      assert.equal(anonymous.json.error.code, 'UNAUTHENTICATED', label);
      assert.equal(anonymous.headers['www-authenticate'], 'Bearer realm="portcullis-admin"', label);
      const bad = await call(route.method, sample.path, { ...sample, token: 'pcat_' + 'x'.repeat(40) });
      assert.equal(bad.status, 401, label);
      assert.match(String(bad.headers['www-authenticate']), /error="invalid_token"/);
      const malformed = await call(route.method, sample.path, { ...sample, headers: { ...sample.headers, authorization: `Basic ${h.tokens.admin}` } });
      assert.equal(malformed.status, 401, `${label}: only Bearer is accepted`);
      for (const role of ['read-only', 'operator', 'admin'] as const) {
        const res = await call(route.method, sample.path, { ...sample, token: h.tokens[role] });
        if (RANK[role] < RANK[route.role]) {
          assert.equal(res.status, 403, `${label} as ${role}: ${res.text}`);
          assert.equal(res.json.error.code, 'FORBIDDEN');
          assert.equal(res.json.error.requiredRole, route.role);
          assert.match(res.json.error.message, new RegExp(`needs the ${route.role} role`));
        } else {
          assert.ok(![401, 403].includes(res.status), `${label} as ${role}: ${res.status} ${res.text}`);
          assert.ok(res.status < 500, `${label} as ${role}: ${res.status} ${res.text}`);
        }
      }
    }
  });

  test('a revoked token stops working at once', async () => {
    const { record, value } = await h.cp.createToken({ name: 'temp', role: 'admin' }, 'test');
    assert.equal((await call('GET', '/v1/admin-tokens', { token: value })).status, 200);
    const del = await call('DELETE', `/v1/admin-tokens/${record.id}`, { token: h.tokens.admin });
    assert.equal(del.status, 200, del.text);
    assert.ok(del.json.token.revokedAt);
    assert.equal((await call('GET', '/v1/admin-tokens', { token: value })).status, 401);
  });

  test('token values and Authorization headers never reach the log', async () => {
    await call('GET', '/v1/revisions', { token: h.tokens['read-only'] });
    await call('POST', '/v1/deployments', { token: h.tokens.operator, body: definitionYaml('one'), headers: yaml });
    const created = await call('POST', '/v1/admin-tokens', {
      token: h.tokens.admin,
      body: JSON.stringify({ name: 'n', role: 'admin' }),
      headers: { 'content-type': 'application/json' },
    });
    await call('GET', '/v1/revisions', { token: 'pcat_wrong' + 'z'.repeat(40) });
    const log = h.lines.join('\n');
    assert.ok(log.includes('admin request'), log);
    for (const secret of [...Object.values(h.tokens), created.json.value as string, 'pcat_wrong']) {
      assert.ok(!log.includes(secret.slice(5)), `log contains a token: ${secret.slice(0, 9)}`);
    }
  });
});

describe('definitions', () => {
  test('validate: 200 with counts, or 400 with every problem and its position', async () => {
    const ok = await call('POST', '/v1/validate', { token: h.tokens.operator, body: definitionYaml('x'), headers: yaml });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { valid: true, format: 'yaml', apiCount: 1, routeCount: 1 });
    const bad = await call('POST', '/v1/validate', {
      token: h.tokens.operator,
      body: 'apis:\n  - name: x\n    stages: {prod: {}}\n    routes: [{method: GETT, path: /v, integration: {type: mock}}]\n    extra: 1\n',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.valid, false);
    assert.equal(bad.json.error.code, 'INVALID_DEFINITION');
    assert.ok(bad.json.problems.length >= 2, bad.text);
    for (const p of bad.json.problems) {
      assert.equal(typeof p.path, 'string');
      assert.equal(typeof p.message, 'string');
      assert.equal(typeof p.line, 'number');
    }
    const forcedJson = await call('POST', '/v1/validate', { token: h.tokens.operator, body: definitionYaml('x'), headers: { 'content-type': 'application/json' } });
    assert.equal(forcedJson.status, 400, 'application/json forces the JSON parser');
    assert.equal(h.installer.installs.length, 0);
    assert.equal((await h.cp.listRevisions()).length, 0);
  });

  test('bodies: empty, unsupported media type, other charsets', async () => {
    const empty = await call('POST', '/v1/deployments', { token: h.tokens.operator, body: '', headers: yaml });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error.code, 'BAD_REQUEST');
    const form = await call('POST', '/v1/deployments', {
      token: h.tokens.operator,
      body: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 415);
    assert.equal(form.json.error.code, 'UNSUPPORTED_MEDIA_TYPE');
    const latin1 = await call('POST', '/v1/validate', {
      token: h.tokens.operator,
      body: definitionYaml('x'),
      headers: { 'content-type': 'application/yaml; charset=iso-8859-1' },
    });
    assert.equal(latin1.status, 415);
  });

  test('deploy, unchanged deploy, rejected deploy, revisions, rollback: a round trip', async () => {
    const op = h.tokens.operator;
    const first = await call('POST', '/v1/deployments?comment=first%20one', { token: op, body: definitionYaml('one'), headers: yaml });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.unchanged, false);
    assert.equal(first.json.revision.number, 1);
    assert.equal(first.json.revision.comment, 'first one');
    assert.equal(first.json.revision.createdBy, 'admin-token:operator-token');
    assert.equal(first.json.deployment.revision, 1);
    assert.equal(first.json.revision.source, undefined, 'the deploy answer does not echo the source');

    const same = await call('POST', '/v1/deployments', { token: op, body: definitionYaml('one'), headers: yaml });
    assert.equal(same.status, 200);
    assert.equal(same.json.unchanged, true);
    assert.equal(same.json.revision.number, 1);

    const invalid = await call('POST', '/v1/deployments', { token: op, body: 'apis: [ {name: x', headers: yaml });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.json.error.code, 'INVALID_DEFINITION');
    assert.ok(invalid.json.problems.length > 0);

    const second = await call('POST', '/v1/deployments', { token: op, body: definitionYaml('two'), headers: yaml });
    assert.equal(second.status, 201);
    assert.equal(h.installer.current()?.body, 'two');

    const list = await call('GET', '/v1/revisions', { token: h.tokens['read-only'] });
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.revisions.map((r: { number: number }) => r.number), [2, 1]);
    assert.equal(list.json.activeRevision, 2);
    assert.equal(list.json.nextBefore, null);
    const page = await call('GET', '/v1/revisions?limit=1', { token: h.tokens['read-only'] });
    assert.deepEqual(page.json.revisions.map((r: { number: number }) => r.number), [2]);
    assert.equal(page.json.nextBefore, 2);
    const next = await call('GET', `/v1/revisions?limit=1&before=${page.json.nextBefore}`, { token: h.tokens['read-only'] });
    assert.deepEqual(next.json.revisions.map((r: { number: number }) => r.number), [1]);
    assert.equal(next.json.nextBefore, null);

    const one = await call('GET', '/v1/revisions/1', { token: h.tokens['read-only'] });
    assert.equal(one.status, 200);
    assert.equal(one.json.revision.source, definitionYaml('one'));
    assert.equal(one.json.active, false);

    const rollback = await call('POST', '/v1/revisions/1/deploy', { token: op });
    assert.equal(rollback.status, 201, rollback.text);
    assert.equal(rollback.json.revision.number, 1);
    assert.equal(h.installer.current()?.body, 'one');
    const again = await call('POST', '/v1/revisions/1/deploy', { token: op });
    assert.equal(again.status, 200);
    assert.equal(again.json.unchanged, true);

    const current = await call('GET', '/v1/deployments/current', { token: h.tokens['read-only'] });
    assert.equal(current.status, 200);
    assert.equal(current.json.deployment.revision, 1);
    assert.equal(current.json.revision.number, 1);
    assert.equal(current.json.revision.source, undefined);
    assert.deepEqual(current.json.installed, { revision: 1, apiCount: 1, routeCount: 1 });

    const history = await call('GET', '/v1/deployments?limit=10', { token: h.tokens['read-only'] });
    assert.deepEqual(history.json.deployments.map((d: { revision: number }) => d.revision), [1, 2, 1]);
  });

  test('missing resources and bad parameters', async () => {
    const ro = h.tokens['read-only'];
    const none = await call('GET', '/v1/deployments/current', { token: ro });
    assert.equal(none.status, 404);
    assert.equal(none.json.error.code, 'NOT_FOUND');
    const missing = await call('GET', '/v1/revisions/99', { token: ro });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'NOT_FOUND');
    assert.equal((await call('POST', '/v1/revisions/99/deploy', { token: h.tokens.operator })).status, 404);
    for (const path of ['/v1/revisions/abc', '/v1/revisions/0', '/v1/revisions/1e3', '/v1/revisions?limit=0', '/v1/revisions?limit=x', '/v1/revisions?limt=5', '/v1/revisions?limit=1&limit=2', '/v1/deployments/current?x=1']) {
      const res = await call('GET', path, { token: ro });
      assert.equal(res.status, 400, `${path}: ${res.text}`);
      assert.equal(res.json.error.code, 'BAD_REQUEST');
    }
    const longComment = await call('POST', `/v1/deployments?comment=${'c'.repeat(1025)}`, { token: h.tokens.operator, body: definitionYaml('x'), headers: yaml });
    assert.equal(longComment.status, 400);
  });
});

describe('admin tokens', () => {
  const json = { 'content-type': 'application/json' };

  test('create (value once), list (no values, no hashes), revoke, last admin refused', async () => {
    const admin = h.tokens.admin;
    const created = await call('POST', '/v1/admin-tokens', { token: admin, body: JSON.stringify({ name: 'ci', role: 'operator' }), headers: json });
    assert.equal(created.status, 201, created.text);
    assert.match(created.json.value, /^pcat_[0-9A-Za-z]{40}$/);
    assert.equal(created.json.token.name, 'ci');
    assert.equal(created.json.token.hint, created.json.value.slice(0, 9));
    assert.equal(created.json.token.hash, undefined);
    assert.equal((await call('GET', '/v1/revisions', { token: created.json.value })).status, 200);

    const list = await call('GET', '/v1/admin-tokens', { token: admin });
    assert.equal(list.status, 200);
    assert.equal(list.json.tokens.length, 4);
    assert.ok(!list.text.includes(created.json.value) && !list.text.includes('"hash"'));

    const tokens = list.json.tokens as Array<{ id: string; name: string }>;
    const adminId = tokens.find((t) => t.name === 'admin-token')!.id;
    const refused = await call('DELETE', `/v1/admin-tokens/${adminId}`, { token: admin });
    assert.equal(refused.status, 409);
    assert.equal(refused.json.error.code, 'CONFLICT');
    assert.match(refused.json.error.message, /last active admin token/);

    const unknown = await call('DELETE', '/v1/admin-tokens/tok_nope', { token: admin });
    assert.equal(unknown.status, 404);
    const ciId = created.json.token.id;
    assert.equal((await call('DELETE', `/v1/admin-tokens/${ciId}`, { token: admin })).status, 200);
    assert.equal((await call('DELETE', `/v1/admin-tokens/${ciId}`, { token: admin })).status, 200, 'idempotent');
    assert.equal((await call('GET', '/v1/revisions', { token: created.json.value })).status, 401);
  });

  test('strict JSON bodies', async () => {
    const admin = h.tokens.admin;
    const cases: Array<[string, Record<string, string>, number, RegExp]> = [
      ['{"name": "x", "role": "admin",}', json, 400, /not valid JSON/],
      ["{'name': 'x'}", json, 400, /not valid JSON/],
      ['[1]', json, 400, /must be a JSON object/],
      ['null', json, 400, /must be a JSON object/],
      ['{"name": "x", "role": "admin", "rol": 1}', json, 400, /unknown field "rol"/],
      ['{"name": "x", "role": "root"}', json, 400, /role must be one of admin, operator, read-only/],
      ['{"name": 5, "role": "admin"}', json, 400, /name must be a string/],
      ['{"name": "", "role": "admin"}', json, 400, /token name/],
      ['', json, 400, /empty/],
      ['name=x&role=admin', { 'content-type': 'application/x-www-form-urlencoded' }, 415, /application\/json/],
    ];
    for (const [body, headers, status, message] of cases) {
      const res = await call('POST', '/v1/admin-tokens', { token: admin, body, headers });
      assert.equal(res.status, status, `${body}: ${res.text}`);
      assert.match(res.json.error.message, message, body);
    }
    assert.equal((await h.cp.listTokens()).length, 3);
  });
});

describe('HTTP behaviour', () => {
  test('unknown paths are 404 JSON; known paths with another method are 405 with Allow', async () => {
    const unknown = await call('GET', '/v2/nothing', { token: h.tokens.admin });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'ROUTE_NOT_FOUND');
    assert.match(String(unknown.headers['content-type']), /^application\/json/);
    assert.equal((await call('GET', '/v1/revisions/', { token: h.tokens.admin })).status, 404);
    assert.equal((await call('GET', '//elsewhere/v1/revisions', { token: h.tokens.admin })).status, 404, 'stays a path');
    const put = await call('PUT', '/v1/revisions');
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, HEAD');
    assert.equal(put.json.error.code, 'METHOD_NOT_ALLOWED');
    const del = await call('DELETE', '/v1/deployments');
    assert.equal(del.status, 405);
    assert.equal(del.headers.allow, 'GET, HEAD, POST');
    const head = await call('HEAD', '/healthz');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
  });

  test('health, readiness and metrics', async () => {
    const health = await call('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'ok');
    assert.equal((await call('GET', '/readyz')).status, 200);
    h.ready.value = false;
    const notReady = await call('GET', '/readyz');
    assert.equal(notReady.status, 503);
    assert.deepEqual(notReady.json, { ready: false, checks: { store: 'ok', snapshot: 'no revision deployed' } });
    const metrics = await call('GET', '/metrics', { token: h.tokens['read-only'] });
    assert.equal(metrics.status, 200);
    assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(metrics.text, /^up 1$/m);
  });

  test('an unexpected failure is a 500 without details; the log has them under the request id', async () => {
    h.metricsFail.value = true;
    const res = await call('GET', '/metrics', { token: h.tokens['read-only'] });
    assert.equal(res.status, 500);
    assert.equal(res.json.error.code, 'INTERNAL');
    assert.ok(!res.text.includes('SECRET-DETAIL') && !/\bat .*\.ts:\d+/.test(res.text), res.text);
    const requestId = String(res.headers['x-request-id']);
    assert.ok(res.json.error.message.includes(requestId));
    assert.ok(h.lines.some((l) => l.includes(requestId) && l.includes('SECRET-DETAIL')));
  });

  test('bodies over the limit are refused with 413, by declared length or while streaming', async () => {
    // Declared: refused before anything is read.
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(h.port, '127.0.0.1', () => {
        socket.write(
          `POST /v1/deployments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.tokens.operator}\r\n` +
            `Content-Type: application/yaml\r\nContent-Length: ${20 * 1024 * 1024 + 1}\r\n\r\napis: []\n`,
        );
      });
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.setTimeout(3000, () => socket.destroy());
    });
    assert.match(raw, /^HTTP\/1\.1 413 /);
    assert.match(raw, /"code":"PAYLOAD_TOO_LARGE"/);
    assert.match(raw, /x-request-id: /i);
    assert.match(raw, /connection: close/i);
    // Streamed (chunked, no length): the JSON endpoints stop at 64 KB.
    const big = await new Promise<Reply>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: h.port,
          path: '/v1/admin-tokens',
          method: 'POST',
          agent: false,
          headers: { authorization: `Bearer ${h.tokens.admin}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) }));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
      req.write('{"name": "');
      req.write('n'.repeat(70 * 1024));
      req.end('", "role": "admin"}');
    });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, 'PAYLOAD_TOO_LARGE');
    assert.match(big.json.error.message, /64 KB/);
    // A definition just under the limit on the JSON endpoints' scale is fine for deploys.
    const sizeable = definitionYaml('x'.repeat(100 * 1024));
    const ok = await call('POST', '/v1/validate', { token: h.tokens.operator, body: sizeable, headers: yaml });
    assert.equal(ok.status, 200, ok.text.slice(0, 200));
  });

  test('every answer carries its own x-request-id and no-store', async () => {
    const a = await call('GET', '/healthz');
    const b = await call('GET', '/nope');
    assert.match(String(a.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
    assert.equal(a.headers['cache-control'], 'no-store');
  });
});

describe('OpenAPI document', () => {
  const documented = () =>
    Object.entries(ADMIN_OPENAPI.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, Record<string, unknown>>).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        role: (op[ROLE_EXTENSION] as AdminRole | undefined) ?? null,
        secured: Array.isArray(op.security) ? op.security.length > 0 : true,
      })),
    );

  test('documents exactly the routes the server implements, with the same roles', () => {
    const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
    assert.deepEqual(documented().map(key).sort(), ADMIN_ROUTES.map(key).sort());
    for (const op of documented()) {
      const route = ADMIN_ROUTES.find((r) => key(r) === key(op))!;
      assert.equal(op.role, route.role, `${key(op)} role`);
      assert.equal(op.secured, route.role !== null, `${key(op)} security`);
    }
  });

  test('every documented operation is served (no 404 ROUTE_NOT_FOUND, no 405), and the document is served', async () => {
    for (const op of documented()) {
      const sample = sampleRequest(op.method, op.path);
      const res = await call(op.method, sample.path, { ...sample, token: h.tokens.admin });
      assert.ok(res.json?.error?.code !== 'ROUTE_NOT_FOUND' && res.status !== 405, `${op.method} ${op.path}: ${res.status} ${res.text}`);
    }
    const served = await call('GET', '/v1/openapi.json');
    assert.equal(served.status, 200);
    assert.equal(served.json.openapi, '3.1.0');
    assert.deepEqual(served.json, JSON.parse(JSON.stringify(ADMIN_OPENAPI)));
  });

  test('the Error schema lists every error code of the catalogue, and every $ref resolves', () => {
    const schemas = ADMIN_OPENAPI.components.schemas as Record<string, unknown>;
    const codes = (schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error.properties.code.enum;
    assert.deepEqual([...codes].sort(), Object.keys(ADMIN_ERRORS).sort());
    const refs = [...JSON.stringify(ADMIN_OPENAPI).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) assert.ok(ref in schemas, `unresolved $ref ${ref}`);
  });
});
