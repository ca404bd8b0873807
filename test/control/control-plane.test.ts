// The control plane on the real SQLite store (and PostgreSQL for the cluster case) with a fake installer:
// deploys, unchanged deploys, rejected deploys, rollback, cluster convergence, admin tokens, bootstrap.
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeClock, type FakeClock } from '../../src/core/clock.ts';
import { DefinitionError } from '../../src/config/load.ts';
import { ControlError } from '../../src/control/control-errors.ts';
import { createControlPlane, type ControlPlane } from '../../src/control/control-plane.ts';
import { generateTokenValue, randomBase62 } from '../../src/control/token-values.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/ports.ts';
import { createTestSchemas, requirePostgres, TEST_PG_URL } from '../store/pg-test-env.ts';
import { createCapturingLogger, createFakeInstaller, definitionYaml, waitFor, type FakeInstaller } from './helpers.ts';

interface Node {
  store: Store;
  installer: FakeInstaller;
  cp: ControlPlane;
  lines: string[];
}

let dir: string;
let clock: FakeClock;
const cleanups: Array<() => Promise<unknown>> = [];

async function node(options: { pollIntervalMs?: number; storeSpec?: string; wrapStore?: (s: Store) => Store } = {}): Promise<Node> {
  const opened = await openStore(options.storeSpec ?? 'sqlite', { dataDir: dir, clock });
  const store = options.wrapStore ? options.wrapStore(opened) : opened;
  const installer = createFakeInstaller();
  const { logger, lines } = createCapturingLogger();
  const cp = createControlPlane({ store, installer, clock, logger, pollIntervalMs: options.pollIntervalMs ?? 60_000 });
  cleanups.push(async () => {
    await cp.stop();
    await opened.close();
  });
  return { store, installer, cp, lines };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-control-'));
  clock = createFakeClock(Date.UTC(2026, 0, 1));
});

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await rm(dir, { recursive: true, force: true });
});

describe('deploy', () => {
  test('stores a revision, activates it, installs it and notifies', async () => {
    const { cp, store, installer } = await node();
    const notified: string[] = [];
    const unsubscribe = await store.changes.subscribe('deployment', (p) => notified.push(p));
    const source = definitionYaml('one');
    const result = await cp.deploy({ source, comment: 'first', actor: 'tester' });
    assert.equal(result.unchanged, false);
    assert.equal(result.revision.number, 1);
    assert.equal(result.revision.sha256, createHash('sha256').update(source).digest('hex'));
    assert.equal(result.revision.comment, 'first');
    assert.equal(result.revision.createdBy, 'tester');
    assert.equal(result.revision.format, 'yaml');
    assert.equal(result.deployment.revision, 1);
    assert.equal(result.deployment.deployedBy, 'tester');
    assert.deepEqual(
      installer.installs.map((s) => [s.revision, s.body]),
      [[1, 'one']],
    );
    assert.equal((await cp.currentDeployment())?.revision, 1);
    assert.equal((await cp.getRevision(1))?.source, source);
    await waitFor(() => notified.length === 1, 1000, 'notification');
    assert.deepEqual(notified, ['1']);
    await unsubscribe();
  });

  test('identical content deploys nothing new (a file watcher saving twice)', async () => {
    const { cp, installer } = await node();
    const first = await cp.deploy({ source: definitionYaml('one'), actor: 't' });
    const again = await cp.deploy({ source: Buffer.from(definitionYaml('one')), actor: 't' });
    assert.equal(again.unchanged, true);
    assert.equal(again.revision.number, first.revision.number);
    assert.equal(again.deployment.id, first.deployment.id);
    assert.equal((await cp.listRevisions()).length, 1);
    assert.equal((await cp.deploymentHistory()).length, 1);
    assert.equal(installer.installs.length, 1);
    // Other content is a new revision, and going back to the first content is one too (not "unchanged").
    await cp.deploy({ source: definitionYaml('two'), actor: 't' });
    const back = await cp.deploy({ source: definitionYaml('one'), actor: 't' });
    assert.equal(back.unchanged, false);
    assert.equal(back.revision.number, 3);
  });

  test('JSON is detected and stored as JSON', async () => {
    const { cp } = await node();
    const source = JSON.stringify({ apis: [{ name: 'j', stages: { prod: {} }, routes: [] }] });
    const result = await cp.deploy({ source, actor: 't' });
    assert.equal(result.revision.format, 'json');
  });

  test('an invalid definition is rejected whole: nothing stored, the old snapshot keeps serving', async () => {
    const { cp, installer } = await node();
    await cp.deploy({ source: definitionYaml('good'), actor: 't' });
    const bad = 'apis:\n  - name: pets\n    stages: {prod: {}}\n    routes: [{method: GETT, path: /v, integration: {type: mock}}]\n';
    await assert.rejects(cp.deploy({ source: bad, actor: 't' }), (err: unknown) => {
      assert.ok(err instanceof DefinitionError);
      assert.equal(err.code, 'INVALID_DEFINITION');
      assert.equal(err.problems[0]?.path, 'apis[0].routes[0].method');
      assert.equal(err.problems[0]?.line, 4);
      return true;
    });
    await assert.rejects(cp.deploy({ source: 'apis: [ {name: x', actor: 't' }), DefinitionError);
    await assert.rejects(cp.deploy({ source: new Uint8Array([0x61, 0x3a, 0xff, 0xfe]), actor: 't' }), DefinitionError);
    assert.equal((await cp.listRevisions()).length, 1);
    assert.equal((await cp.deploymentHistory()).length, 1);
    assert.deepEqual(installer.installs.map((s) => s.body), ['good']);
    assert.equal(installer.current()?.body, 'good');
  });

  test('a definition the compiler refuses is rejected whole too', async () => {
    const { cp, installer } = await node();
    await cp.deploy({ source: definitionYaml('good'), actor: 't' });
    installer.reject = (def) =>
      def.apis[0]?.routes[0]?.integration.type === 'mock' && def.apis[0].routes[0].integration.body === 'uncompilable'
        ? [{ path: 'apis[0].stages.prod.accessLog.format', message: 'unknown variable $context.nope' }]
        : undefined;
    await assert.rejects(cp.deploy({ source: definitionYaml('uncompilable'), actor: 't' }), (err: unknown) => {
      assert.ok(err instanceof DefinitionError);
      assert.match(err.problems[0]!.message, /unknown variable/);
      return true;
    });
    assert.equal((await cp.listRevisions()).length, 1);
    assert.equal(installer.current()?.body, 'good');
    const validation = cp.validate(definitionYaml('uncompilable'));
    assert.equal(validation.ok, false);
    assert.equal(validation.ok ? '' : validation.problems[0]!.path, 'apis[0].stages.prod.accessLog.format');
  });

  test('validate checks without storing or installing', async () => {
    const { cp, installer } = await node();
    const ok = cp.validate(definitionYaml('x', [{ method: 'POST', path: '/pets', integration: { type: 'mock' } }]));
    assert.equal(ok.ok, true);
    assert.deepEqual(ok.ok && [ok.apiCount, ok.routeCount, ok.format], [1, 2, 'yaml']);
    const bad = cp.validate('{"apis": [{"name": "x"}]}', 'json');
    assert.equal(bad.ok, false);
    assert.ok(!bad.ok && bad.problems.some((p) => p.path === 'apis[0].stages'));
    assert.equal(installer.installs.length, 0);
    assert.deepEqual(installer.compiles, [0]);
    assert.equal((await cp.listRevisions()).length, 0);
  });

  test('concurrent deploys are serialised: numbers follow order and the last one is installed', async () => {
    const { cp, installer } = await node();
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((body) => cp.deploy({ source: definitionYaml(body), actor: 't' })));
    assert.deepEqual(results.map((r) => r.revision.number), [1, 2, 3, 4, 5]);
    assert.deepEqual(installer.installs.map((s) => s.revision), [1, 2, 3, 4, 5]);
    assert.equal((await cp.currentDeployment())?.revision, 5);
  });

  test('compiles once under the number the revision gets, and again if another node took it', async () => {
    const a = await node();
    const b = await node();
    await a.cp.deploy({ source: definitionYaml('one'), actor: 't' });
    assert.deepEqual(a.installer.compiles, [1]);
    // B stores revision 2 behind A's back while A is about to compile under the predicted number 2.
    let injected = false;
    a.installer.reject = () => {
      if (!injected) {
        injected = true;
        void b.store.revisions.create({
          source: 'x',
          format: 'yaml',
          sha256: createHash('sha256').update('x').digest('hex'),
        });
      }
      return undefined;
    };
    const result = await a.cp.deploy({ source: definitionYaml('two'), actor: 't' });
    assert.equal(result.revision.number, 3);
    assert.deepEqual(a.installer.compiles, [1, 2, 3]);
    assert.equal(a.installer.current()?.revision, 3);
  });
});

describe('rollback', () => {
  test('re-deploys an earlier revision without storing a new one', async () => {
    const { cp, installer } = await node();
    await cp.deploy({ source: definitionYaml('one'), actor: 't' });
    await cp.deploy({ source: definitionYaml('two'), actor: 't' });
    const result = await cp.rollback(1, 'operator-x');
    assert.equal(result.unchanged, false);
    assert.equal(result.revision.number, 1);
    assert.equal(result.deployment.revision, 1);
    assert.equal(result.deployment.deployedBy, 'operator-x');
    assert.equal(installer.current()?.body, 'one');
    assert.equal(installer.current()?.revision, 1);
    assert.equal((await cp.listRevisions()).length, 2);
    assert.deepEqual((await cp.deploymentHistory()).map((d) => d.revision), [1, 2, 1]);
    // Rolling back to what is active changes nothing.
    const again = await cp.rollback(1, 't');
    assert.equal(again.unchanged, true);
    assert.equal((await cp.deploymentHistory()).length, 3);
  });

  test('refuses a missing revision and a bad number', async () => {
    const { cp } = await node();
    await assert.rejects(cp.rollback(7, 't'), (err: unknown) => err instanceof ControlError && err.code === 'NOT_FOUND');
    await assert.rejects(cp.rollback(0, 't'), (err: unknown) => err instanceof ControlError && err.code === 'INVALID_INPUT');
    await assert.rejects(cp.rollback(1.5, 't'), (err: unknown) => err instanceof ControlError && err.code === 'INVALID_INPUT');
  });

  test('a stored revision the current code no longer compiles is refused with its problems', async () => {
    const { cp, installer } = await node();
    await cp.deploy({ source: definitionYaml('old'), actor: 't' });
    await cp.deploy({ source: definitionYaml('new'), actor: 't' });
    installer.reject = (def) =>
      def.apis[0]?.routes[0]?.integration.type === 'mock' && def.apis[0].routes[0].integration.body === 'old'
        ? [{ path: 'apis[0]', message: 'no longer supported' }]
        : undefined;
    await assert.rejects(cp.rollback(1, 't'), (err: unknown) => {
      assert.ok(err instanceof DefinitionError);
      assert.equal(err.problems[0]?.message, 'no longer supported');
      return true;
    });
    assert.equal((await cp.currentDeployment())?.revision, 2);
    assert.equal(installer.current()?.body, 'new');
  });
});

describe('start and cluster sync', () => {
  test('start installs the active revision; an empty store installs nothing', async () => {
    const first = await node();
    await first.cp.start();
    assert.equal(first.installer.installs.length, 0);
    await first.cp.deploy({ source: definitionYaml('one'), actor: 't' });
    await first.cp.deploy({ source: definitionYaml('two'), actor: 't' });
    await first.cp.rollback(1, 't');
    const restarted = await node();
    await restarted.cp.start();
    assert.deepEqual(restarted.installer.installs.map((s) => [s.revision, s.body]), [[1, 'one']]);
    await assert.rejects(restarted.cp.start(), /already started/);
  });

  test('a deploy on node A is installed on node B (shared SQLite file, notification)', async () => {
    const a = await node();
    const b = await node();
    await a.cp.start();
    await b.cp.start();
    await a.cp.deploy({ source: definitionYaml('from-a'), actor: 'a' });
    await waitFor(() => b.installer.current()?.body === 'from-a', 2000, 'B installs A\'s deploy');
    assert.equal(b.installer.current()?.revision, 1);
    await b.cp.rollback(1, 'b');
    await a.cp.deploy({ source: definitionYaml('second'), actor: 'a' });
    await waitFor(() => b.installer.current()?.revision === 2, 2000, 'B installs revision 2');
    await b.cp.rollback(1, 'b');
    await waitFor(() => a.installer.current()?.revision === 1, 2000, 'A follows B\'s rollback');
  });

  test('polling alone converges a node that misses every notification', async () => {
    const a = await node();
    // B's store delivers no notifications: only its poll can find the new deployment.
    const deaf = (s: Store): Store => ({
      kind: s.kind,
      location: s.location,
      revisions: s.revisions,
      deployments: s.deployments,
      adminTokens: s.adminTokens,
      meta: s.meta,
      apiKeys: s.apiKeys,
      iam: s.iam,
      audit: s.audit,
      changes: { publish: (c, p) => s.changes.publish(c, p), subscribe: async () => async () => {} },
      ping: () => s.ping(),
      close: () => s.close(),
    });
    const b = await node({ pollIntervalMs: 40, wrapStore: deaf });
    await a.cp.start();
    await b.cp.start();
    await a.cp.deploy({ source: definitionYaml('polled'), actor: 'a' });
    await waitFor(() => b.installer.current()?.body === 'polled', 2000, 'B polls the new deployment');
    await b.cp.stop();
    const installsAfterStop = b.installer.installs.length;
    await a.cp.deploy({ source: definitionYaml('after-stop'), actor: 'a' });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(b.installer.installs.length, installsAfterStop, 'a stopped node installs nothing');
  });

  test('a node that cannot compile the active revision keeps its snapshot and says so once', async () => {
    const a = await node();
    const b = await node({ pollIntervalMs: 20 });
    await a.cp.start();
    await a.cp.deploy({ source: definitionYaml('one'), actor: 'a' });
    await b.cp.start();
    assert.equal(b.installer.current()?.body, 'one');
    b.installer.reject = () => [{ path: 'apis', message: 'this node runs another version' }];
    await a.cp.deploy({ source: definitionYaml('two'), actor: 'a' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(b.installer.current()?.body, 'one');
    const reports = b.lines.filter((l) => l.includes("does not pass this node's checks"));
    assert.equal(reports.length, 1, reports.join('\n'));
  });

  describe('on PostgreSQL (LISTEN/NOTIFY)', async () => {
    const reachable = await requirePostgres('control plane cluster');
    const schemas = createTestSchemas();
    after(() => schemas.dropAll());
    if (reachable) {
      test('a deploy on node A is installed on node B', async () => {
        const storeSpec = `${TEST_PG_URL}${TEST_PG_URL.includes('?') ? '&' : '?'}schema=${schemas.name('cp')}`;
        const a = await node({ storeSpec });
        const b = await node({ storeSpec });
        await a.cp.start();
        await b.cp.start();
        await a.cp.deploy({ source: definitionYaml('pg'), actor: 'a' });
        await waitFor(() => b.installer.current()?.body === 'pg', 5000, 'B installs A\'s deploy');
        await b.cp.deploy({ source: definitionYaml('pg-2'), actor: 'b' });
        await a.cp.rollback(1, 'a');
        await waitFor(() => b.installer.current()?.revision === 1, 5000, 'B follows A\'s rollback');
      });
    }
  });
});

describe('admin tokens', () => {
  test('values are pcat_ + 40 base62 characters, stored only as a SHA-256 with a 9-character hint', async () => {
    const { cp, store } = await node();
    const { record, value } = await cp.createToken({ name: 'ci', role: 'operator' }, 'tester');
    assert.match(value, /^pcat_[0-9A-Za-z]{40}$/);
    assert.equal(record.hash, createHash('sha256').update(value).digest('hex'));
    assert.equal(record.hint, value.slice(0, 9));
    assert.equal(record.role, 'operator');
    assert.equal(record.name, 'ci');
    const stored = await store.adminTokens.get(record.id);
    assert.ok(stored && !JSON.stringify(stored).includes(value.slice(9)));
    assert.deepEqual((await cp.listTokens()).map((t) => t.id), [record.id]);
  });

  test('the generator uses the whole alphabet and repeats nothing', () => {
    const seen = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const v = generateTokenValue();
      seen.add(v);
      for (const c of v.slice(5)) chars.add(c);
    }
    assert.equal(seen.size, 500);
    assert.equal(chars.size, 62);
    assert.equal(randomBase62(1000).length, 1000);
  });

  test('refuses bad names and roles', async () => {
    const { cp } = await node();
    await assert.rejects(cp.createToken({ name: '', role: 'admin' }, 't'), (e: unknown) => e instanceof ControlError && e.code === 'INVALID_INPUT');
    await assert.rejects(cp.createToken({ name: 'a\nb', role: 'admin' }, 't'), ControlError);
    await assert.rejects(cp.createToken({ name: 'x'.repeat(129), role: 'admin' }, 't'), ControlError);
    await assert.rejects(cp.createToken({ name: 'x', role: 'root' as never }, 't'), /admin, operator, read-only/);
  });

  test('authenticate: the right value only, revoked tokens never, last use recorded at most once a minute', async () => {
    const { cp, store } = await node();
    await cp.createToken({ name: 'keep', role: 'admin' }, 't');
    const { record, value } = await cp.createToken({ name: 'ci', role: 'read-only' }, 't');
    assert.equal((await cp.authenticate(value))?.id, record.id);
    assert.equal(await cp.authenticate(value.slice(0, -1) + (value.endsWith('a') ? 'b' : 'a')), undefined);
    assert.equal(await cp.authenticate(''), undefined);
    assert.equal(await cp.authenticate('x'.repeat(10_000)), undefined);
    await waitFor(async () => (await store.adminTokens.get(record.id))?.lastUsedAt === '2026-01-01T00:00:00.000Z', 1000, 'touch');
    clock.advance(30_000);
    await cp.authenticate(value);
    clock.advance(10_000); // past the cache, still within the minute
    await cp.authenticate(value);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await store.adminTokens.get(record.id))?.lastUsedAt, '2026-01-01T00:00:00.000Z');
    clock.advance(25_000);
    await cp.authenticate(value);
    await waitFor(async () => (await store.adminTokens.get(record.id))?.lastUsedAt === '2026-01-01T00:01:05.000Z', 1000, 'second touch');
    const revoked = await cp.revokeToken(record.id, 't');
    assert.ok(revoked.revokedAt);
    assert.equal(await cp.authenticate(value), undefined);
  });

  test('positive lookups are cached for a few seconds (bounded staleness for revocations made elsewhere)', async () => {
    const { cp, store } = await node();
    await cp.createToken({ name: 'keep', role: 'admin' }, 't');
    const { record, value } = await cp.createToken({ name: 'ci', role: 'operator' }, 't');
    assert.ok(await cp.authenticate(value));
    // Revoked straight in the store, as another node would: this node's cache still trusts it briefly.
    await store.adminTokens.revoke(record.id, new Date(clock.now()).toISOString());
    assert.ok(await cp.authenticate(value));
    clock.advance(5_001);
    assert.equal(await cp.authenticate(value), undefined);
  });

  test('a revocation on another node drops this node\'s cached lookup at once', async () => {
    const a = await node();
    const b = await node();
    await a.cp.start();
    await b.cp.start();
    await a.cp.createToken({ name: 'keep', role: 'admin' }, 't');
    const { record, value } = await a.cp.createToken({ name: 'ci', role: 'operator' }, 't');
    assert.ok(await b.cp.authenticate(value));
    await a.cp.revokeToken(record.id, 't');
    await waitFor(async () => (await b.cp.authenticate(value)) === undefined, 1000, 'B forgets the revoked token');
  });

  test('the last active admin token cannot be revoked', async () => {
    const { cp } = await node();
    const first = await cp.createToken({ name: 'first', role: 'admin' }, 't');
    const ro = await cp.createToken({ name: 'ro', role: 'read-only' }, 't');
    await assert.rejects(cp.revokeToken(first.record.id, 't'), (err: unknown) => {
      assert.ok(err instanceof ControlError);
      assert.equal(err.code, 'CONFLICT');
      assert.match(err.message, /last active admin token; create another admin token/);
      return true;
    });
    assert.ok(await cp.authenticate(first.value));
    const second = await cp.createToken({ name: 'second', role: 'admin' }, 't');
    await cp.revokeToken(first.record.id, 't');
    await assert.rejects(cp.revokeToken(second.record.id, 't'), ControlError);
    await cp.revokeToken(ro.record.id, 't');
    // Revoking twice is not an error; an unknown id is.
    assert.ok((await cp.revokeToken(ro.record.id, 't')).revokedAt);
    await assert.rejects(cp.revokeToken('tok_nope', 't'), (err: unknown) => err instanceof ControlError && err.code === 'NOT_FOUND');
    // Two revocations racing for the last two admins: one must lose.
    const third = await cp.createToken({ name: 'third', role: 'admin' }, 't');
    const outcomes = await Promise.allSettled([cp.revokeToken(second.record.id, 't'), cp.revokeToken(third.record.id, 't')]);
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
  });

  test('token values never reach the log', async () => {
    const { cp, lines } = await node();
    const bootstrap = await cp.ensureBootstrapToken({});
    const { value } = await cp.createToken({ name: 'ci', role: 'admin' }, 't');
    await cp.authenticate(value);
    const log = lines.join('\n');
    assert.ok(log.includes('admin token created'), log);
    assert.ok(!log.includes(value.slice(5)) && !log.includes(bootstrap!.slice(5)), log);
  });
});

describe('bootstrap token', () => {
  test('PORTCULLIS_ADMIN_TOKEN is stored once as the admin token "bootstrap-env"', async () => {
    const { cp } = await node();
    const envValue = 'env-token-' + 'x'.repeat(30);
    assert.equal(await cp.ensureBootstrapToken({ envValue }), undefined);
    assert.equal(await cp.ensureBootstrapToken({ envValue }), undefined);
    const tokens = await cp.listTokens();
    assert.deepEqual(tokens.map((t) => [t.name, t.role]), [['bootstrap-env', 'admin']]);
    assert.equal(tokens[0]?.hint, envValue.slice(0, 9));
    assert.equal((await cp.authenticate(envValue))?.name, 'bootstrap-env');
  });

  test('a weak PORTCULLIS_ADMIN_TOKEN is refused with a clear error', async () => {
    const { cp } = await node();
    await assert.rejects(cp.ensureBootstrapToken({ envValue: 'short' }), (err: unknown) => {
      assert.ok(err instanceof ControlError);
      assert.match(err.message, /PORTCULLIS_ADMIN_TOKEN is 5 characters long; an admin token must have at least 32/);
      return true;
    });
    await assert.rejects(cp.ensureBootstrapToken({ envValue: 'a'.repeat(20) + ' ' + 'b'.repeat(20) }), /spaces or control characters/);
    assert.equal((await cp.listTokens()).length, 0);
  });

  test('without PORTCULLIS_ADMIN_TOKEN an admin token is generated once and its value returned', async () => {
    const { cp } = await node();
    const value = await cp.ensureBootstrapToken({ envValue: undefined });
    assert.match(value ?? '', /^pcat_[0-9A-Za-z]{40}$/);
    assert.equal((await cp.authenticate(value!))?.role, 'admin');
    assert.equal(await cp.ensureBootstrapToken({}), undefined);
    assert.equal(await cp.ensureBootstrapToken({ envValue: '' }), undefined);
    assert.equal((await cp.listTokens()).length, 1);
  });

  test('a revoked PORTCULLIS_ADMIN_TOKEN is not restored', async () => {
    const { cp } = await node();
    const envValue = 'y'.repeat(40);
    await cp.ensureBootstrapToken({ envValue });
    const env = (await cp.listTokens())[0]!;
    await cp.createToken({ name: 'other-admin', role: 'admin' }, 't');
    await cp.revokeToken(env.id, 't');
    assert.equal(await cp.ensureBootstrapToken({ envValue }), undefined);
    assert.equal(await cp.authenticate(envValue), undefined);
  });
});
