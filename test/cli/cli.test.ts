// The `portcullis` command as a user runs it (node bin/portcullis.js in a child process): local validation,
// and the admin-API commands against an admin server started here on a real store with a fake installer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src/core/clock.ts';
import { createControlPlane, type ControlPlane } from '../../src/control/control-plane.ts';
import { createAdminServer, type AdminServer } from '../../src/admin/admin-server.ts';
import { parseHostPort } from '../../src/cli/main.ts';
import { formatTable } from '../../src/cli/format.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/ports.ts';
import { createCapturingLogger, createFakeInstaller, definitionYaml, type FakeInstaller } from '../control/helpers.ts';

const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI asynchronously (the admin server under test lives in this process's event loop). */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...clean, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-cli-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('portcullis validate', () => {
  test('a valid file: exit 0 and a one-line summary', async () => {
    const file = join(dir, 'good.yaml');
    await writeFile(file, definitionYaml('ok', [{ method: 'POST', path: '/pets/{id}', integration: { type: 'mock' } }]));
    const res = await run(['validate', file]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `✓ ${file} is valid: 1 API, 2 routes\n`);
    assert.equal(res.stderr, '');
  });

  test('an invalid file: exit 1 and every problem with file, line and column on stderr', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      'apis:\n  - name: pets\n    stages: {prod: {}}\n    routes:\n      - {method: GETT, path: /v, integration: {type: mock}}\n      - {method: GET, path: v, integration: {type: mock}, bogus: 1}\n',
    );
    const res = await run(['validate', file]);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /is not valid \(\d+ problems\)/);
    assert.match(res.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:\\d+ apis\\[0\\]\\.routes\\[0\\]\\.method: `));
    assert.match(res.stderr, /apis\[0\]\.routes\[1\]/);
    assert.ok(res.stderr.split('\n').filter((l) => l.startsWith(file)).length >= 2, res.stderr);
  });

  test('JSON files, unreadable files and usage errors', async () => {
    const file = join(dir, 'def.json');
    await writeFile(file, JSON.stringify({ apis: [{ name: 'j', stages: { prod: {} }, routes: [] }] }));
    assert.equal((await run(['validate', file])).code, 0);
    const missing = await run(['validate', join(dir, 'missing.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*missing\.yaml: no such file/);
    const usage = await run(['validate']);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /missing required argument/);
  });
});

describe('commands that talk to the admin API', () => {
  let store: Store;
  let cp: ControlPlane;
  let installer: FakeInstaller;
  let server: AdminServer;
  let url: string;
  let adminToken: string;
  let readOnlyToken: string;
  const as = (token: string) => ['--admin-url', url, '--token', token];

  before(async () => {
    store = await openStore('sqlite', { dataDir: dir, clock: systemClock });
    installer = createFakeInstaller();
    const { logger } = createCapturingLogger();
    cp = createControlPlane({ store, installer, clock: systemClock, logger });
    await cp.start();
    server = createAdminServer({
      controlPlane: cp,
      metrics: { contentType: 'text/plain', render: async () => '' },
      readiness: async () => ({ ready: installer.current() !== undefined, checks: { store: 'ok' } }),
      logger,
      clock: systemClock,
    });
    const address = await server.listen('127.0.0.1', 0);
    url = `http://127.0.0.1:${address.port}`;
    adminToken = (await cp.ensureBootstrapToken({}))!;
    readOnlyToken = (await cp.createToken({ name: 'viewer', role: 'read-only' }, 'test')).value;
  });

  after(async () => {
    await server.close();
    await cp.stop();
    await store.close();
  });

  test('deploy, unchanged deploy, rejected deploy, revisions, rollback, status', async () => {
    const file = join(dir, 'deploy.yaml');
    await writeFile(file, definitionYaml('one'));
    const first = await run(['deploy', file, '--comment', 'from the test', ...as(adminToken)]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `✓ deployed ${file} as revision 1 (deployment 1)\n`);
    assert.equal(installer.current()?.body, 'one');

    const same = await run(['deploy', file, ...as(adminToken)]);
    assert.equal(same.code, 0);
    assert.match(same.stdout, /is unchanged: revision 1 is already active/);

    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'apis:\n  - name: x\n    stages: {prod: {}}\n    routes: [{method: GETT, path: /v, integration: {type: mock}}]\n');
    const rejected = await run(['deploy', broken, ...as(adminToken)]);
    assert.equal(rejected.code, 1);
    assert.match(rejected.stderr, /was not deployed \(1 problem\); the running revision keeps serving/);
    assert.match(rejected.stderr, /broken\.yaml:4:\d+ apis\[0\]\.routes\[0\]\.method/);

    await writeFile(file, definitionYaml('two'));
    const json = await run(['deploy', file, '--json', ...as(adminToken)]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).revision.number, 2);

    const list = await run(['revisions', 'list', ...as(readOnlyToken)]);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^REVISION\s+CREATED\s+SIZE\s+SHA256\s+BY\s+COMMENT$/);
    assert.match(lines[1]!, /^2 \*\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+\d+ B\s+[0-9a-f]{12}\s+admin-token:bootstrap\s+portcullis deploy deploy\.yaml$/);
    assert.match(lines[2]!, /^1\s+.*from the test$/);
    const listJson = JSON.parse((await run(['revisions', 'list', '--json', ...as(readOnlyToken)])).stdout);
    assert.equal(listJson.activeRevision, 2);

    const source = await run(['revisions', 'show', '1', '--source', ...as(readOnlyToken)]);
    assert.equal(source.stdout, definitionYaml('one'));
    const shown = await run(['revisions', 'show', '1', ...as(readOnlyToken)]);
    assert.match(shown.stdout, /^Revision:\s+1$/m);
    assert.match(shown.stdout, /^Comment:\s+from the test$/m);
    const absent = await run(['revisions', 'show', '9', ...as(readOnlyToken)]);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /revision 9 does not exist/);

    const rollback = await run(['rollback', '1', ...as(adminToken)]);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.equal(rollback.stdout, '✓ rolled back to revision 1 (deployment 3)\n');
    assert.equal(installer.current()?.body, 'one');

    const status = await run(['status', ...as(readOnlyToken)]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Active revision:\s+1 \(deployed .* by admin-token:bootstrap\)$/m);
    assert.match(status.stdout, /^This node serves:\s+revision 1: 1 API, 1 route$/m);
    assert.match(status.stdout, /^Ready:\s+yes$/m);
  });

  test('tokens create, list and revoke; the admin URL and token from the environment', async () => {
    const env = { PORTCULLIS_ADMIN_URL: url, PORTCULLIS_ADMIN_TOKEN: adminToken };
    const created = await run(['tokens', 'create', '--name', 'ci', '--role', 'operator'], env);
    assert.equal(created.code, 0, created.stderr);
    const value = /^ {2}(pcat_[0-9A-Za-z]{40})$/m.exec(created.stdout)?.[1];
    assert.ok(value, created.stdout);
    assert.equal((await cp.authenticate(value))?.role, 'operator');
    const id = /created admin token (tok_\w+) "ci" \(operator\)/.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);

    const list = await run(['tokens', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+NAME\s+ROLE\s+HINT\s+CREATED\s+LAST USED\s+STATUS$/m);
    assert.match(list.stdout, new RegExp(`^${id}\\s+ci\\s+operator\\s+${value.slice(0, 9)}…`, 'm'));
    assert.ok(!list.stdout.includes(value), 'values are never listed');

    const revoked = await run(['tokens', 'revoke', id], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked admin token/);
    assert.equal(await cp.authenticate(value), undefined);

    const badRole = await run(['tokens', 'create', '--name', 'x', '--role', 'root'], env);
    assert.equal(badRole.code, 1);
    assert.match(badRole.stderr, /Allowed choices are admin, operator, read-only/);
  });

  test('clear sentences for a missing, wrong or too weak token, and an unreachable gateway', async () => {
    const file = join(dir, 'denied.yaml');
    await writeFile(file, definitionYaml('denied'));
    const weak = await run(['deploy', file, ...as(readOnlyToken)]);
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /permission denied: this needs a token with the operator role or higher/);
    const weakTokens = await run(['tokens', 'list', ...as(readOnlyToken)]);
    assert.match(weakTokens.stderr, /needs a token with the admin role \(/);

    const wrong = await run(['revisions', 'list', ...as('pcat_' + 'q'.repeat(40))]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /the admin API refused the token .*--token or PORTCULLIS_ADMIN_TOKEN/);

    const none = await run(['revisions', 'list', '--admin-url', url]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no admin token: pass --token or set PORTCULLIS_ADMIN_TOKEN/);

    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const unreachable = await run(['status', '--admin-url', `http://127.0.0.1:${closedPort}`, '--token', adminToken]);
    assert.equal(unreachable.code, 1);
    assert.equal(
      unreachable.stderr,
      `portcullis: cannot reach the admin API at http://127.0.0.1:${closedPort}: is \`portcullis serve\` running?\n`,
    );
  });
});

describe('helpers', () => {
  test('parseHostPort', () => {
    assert.deepEqual(parseHostPort('0.0.0.0:8080'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseHostPort('[::1]:9090'), { host: '::1', port: 9090 });
    assert.deepEqual(parseHostPort('8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseHostPort('localhost:0'), { host: 'localhost', port: 0 });
    for (const bad of ['', 'host', 'host:', 'host:99999', ':x', '::1:80']) assert.throws(() => parseHostPort(bad), bad);
  });

  test('formatTable aligns columns without trailing spaces', () => {
    assert.equal(formatTable(['A', 'LONGER'], [['xxxx', 'y'], ['z', '']]), 'A     LONGER\nxxxx  y\nz');
  });
});
