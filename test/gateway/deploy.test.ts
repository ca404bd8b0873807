// Revisions and atomic swaps through a running gateway: no request fails while revisions are swapped
// under load, in-flight requests finish on their snapshot, invalid revisions are rejected whole,
// rollback, the file watch, and the SIGTERM drain of a real `portcullis serve` process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ADMIN_TOKEN, eventually, request, startServer, startTestGateway } from '../helpers/gateway.ts';

const def = (body: string, extraRoutes: object[] = []) => ({
  apis: [
    {
      name: 'swap',
      stages: { prod: {} },
      routes: [{ method: 'GET', path: '/v', integration: { type: 'mock', body } }, ...extraRoutes],
    },
  ],
});

async function deploy(adminUrl: string, definition: unknown) {
  return request(adminUrl, '/v1/deployments', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/yaml' },
    body: typeof definition === 'string' ? definition : stringify(definition),
  });
}

describe('revisions and swaps', () => {
  test('no request fails while revisions are swapped under load', async () => {
    const gw = await startTestGateway(def('A'));
    try {
      let stop = false;
      const bodies = new Set<string>();
      let failures = 0;
      let total = 0;
      const worker = async () => {
        while (!stop) {
          const res = await request(gw.url, '/prod/v');
          total++;
          if (res.status !== 200) failures++;
          else bodies.add(res.body);
        }
      };
      const workers = Array.from({ length: 8 }, worker);
      for (let i = 0; i < 12; i++) {
        const res = await deploy(gw.adminUrl, def(i % 2 ? 'A' : 'B'));
        assert.equal(res.status, 201, res.body);
      }
      stop = true;
      await Promise.all(workers);
      assert.equal(failures, 0, `${failures} of ${total} requests failed during swaps`);
      assert.ok(bodies.has('A') && bodies.has('B'), `saw ${[...bodies]}`);
    } finally {
      await gw.close();
    }
  });

  test('a request in flight finishes on the snapshot it started with', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const upstream = await startServer(async (_req, res) => {
      await released;
      res.end('from-upstream');
    });
    const slowDef = {
      apis: [{ name: 'swap', stages: { prod: {} }, routes: [{ method: 'GET', path: '/slow', integration: { type: 'http_proxy', url: `${upstream.url}/slow` } }] }],
    };
    const gw = await startTestGateway(slowDef);
    try {
      const inflight = request(gw.url, '/prod/slow');
      await new Promise((r) => setTimeout(r, 100));
      const mockDef = { apis: [{ name: 'swap', stages: { prod: {} }, routes: [{ method: 'GET', path: '/slow', integration: { type: 'mock', body: 'from-mock' } }] }] };
      assert.equal((await deploy(gw.adminUrl, mockDef)).status, 201);
      assert.equal((await request(gw.url, '/prod/slow')).body, 'from-mock');
      release();
      const res = await inflight;
      assert.equal(res.status, 200);
      assert.equal(res.body, 'from-upstream');
    } finally {
      await gw.close();
      await upstream.close();
    }
  });

  test('an invalid revision is rejected whole and the running one keeps serving', async () => {
    const gw = await startTestGateway(def('good'));
    try {
      const bad = await deploy(gw.adminUrl, { apis: [{ name: 'swap', stages: { prod: {} }, routes: [{ method: 'GET', path: '/v', integration: { type: 'mock' }, bogus: 1 }] }] });
      assert.equal(bad.status, 400);
      const problems = JSON.parse(bad.body).problems;
      assert.ok(problems.some((p: { path: string }) => p.path.startsWith('apis[0].routes[0]')), bad.body);
      const malformed = await deploy(gw.adminUrl, 'apis: [ {name: x');
      assert.equal(malformed.status, 400);
      assert.equal((await request(gw.url, '/prod/v')).body, 'good');
      const revisions = await request(gw.adminUrl, '/v1/revisions', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const list = JSON.parse(revisions.body);
      assert.equal((list.revisions ?? list).length, 1, revisions.body);
    } finally {
      await gw.close();
    }
  });

  test('rollback redeploys an earlier revision', async () => {
    const gw = await startTestGateway(def('one'));
    try {
      assert.equal((await deploy(gw.adminUrl, def('two'))).status, 201);
      assert.equal((await request(gw.url, '/prod/v')).body, 'two');
      const rb = await request(gw.adminUrl, '/v1/revisions/1/deploy', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.ok(rb.status === 200 || rb.status === 201, rb.body);
      assert.equal((await request(gw.url, '/prod/v')).body, 'one');
    } finally {
      await gw.close();
    }
  });

  test('a changed file is deployed; a broken file is not', async () => {
    const gw = await startTestGateway(def('first'), { watchConfig: true });
    try {
      await gw.writeConfig(def('second'));
      await eventually(async () => (await request(gw.url, '/prod/v')).body === 'second');
      await gw.writeConfig('apis:\n  - name: swap\n    stages: {prod: {}}\n    routes: [{method: GETT, path: /v, integration: {type: mock}}]\n');
      await new Promise((r) => setTimeout(r, 600));
      assert.equal((await request(gw.url, '/prod/v')).body, 'second');
      await gw.gateway.reload();
      assert.equal((await request(gw.url, '/prod/v')).body, 'second');
    } finally {
      await gw.close();
    }
  });
});

describe('signals', () => {
  test('SIGHUP deploys the --config file again', async () => {
    const gw = await startTestGateway(def('before'), { handleSignals: true, watchConfig: false });
    try {
      await gw.writeConfig(def('after'));
      // No file watch here: only the signal can deploy the change.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await request(gw.url, '/prod/v')).body, 'before');
      process.kill(process.pid, 'SIGHUP');
      await eventually(async () => (await request(gw.url, '/prod/v')).body === 'after');
    } finally {
      await gw.close();
    }
  });
});

describe('portcullis serve process', () => {
  test('SIGTERM drains: in-flight requests finish, then the process exits 0', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const arrivedP = new Promise<void>((r) => (arrived = r));
    const upstream = await startServer(async (_req, res) => {
      arrived();
      await released;
      res.end('finished');
    });
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-serve-'));
    const file = join(dir, 'def.yaml');
    await writeFile(file, stringify({ apis: [{ name: 'x', stages: { prod: {} }, routes: [{ method: 'GET', path: '/slow', integration: { type: 'http_proxy', url: `${upstream.url}/` } }] }] }));
    const child = spawn(process.execPath, ['bin/portcullis.js', 'serve', '--config', file, '--data-dir', dir, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], {
      env: { ...process.env, PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN, PORTCULLIS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const url = (await eventually(() => /listening on (http:\/\/[^\s]+)/.exec(stderr)?.[1], 20_000)) as string;
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const inflight = request(url, '/prod/slow');
      await arrivedP;
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      release();
      const res = await inflight;
      assert.equal(res.status, 200);
      assert.equal(res.body, 'finished');
      assert.equal(await exited, 0, stderr);
    } finally {
      child.kill('SIGKILL');
      await upstream.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
