// A node writing its access log to a plain file (PORTCULLIS_ACCESS_LOG=path) in a process of its own: lines
// arrive in the file, and after logrotate moves the file SIGHUP makes the node reopen it at its path.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventually, request } from '../helpers/gateway.ts';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-access-file-'));
let node: GatewayProcess | undefined;
after(async () => {
  await node?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (file: string): Array<Record<string, string>> =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>) : [];

test('a plain access-log file gets one JSON line per request, and SIGHUP reopens it after logrotate moved it', async () => {
  const config = join(dir, 'definition.yaml');
  writeFileSync(config, stringify({
    settings: { accessLog: { format: 'JSON' } },
    apis: [{ name: 'pets', stages: { prod: {} }, routes: [{ method: 'GET', path: '/pets', integration: { type: 'mock', body: 'ok' } }] }],
  }));
  const file = join(dir, 'logs', 'access.log');
  node = await startGatewayProcess({ config, dataDir: join(dir, 'data'), logLevel: 'warn', env: { PORTCULLIS_ACCESS_LOG: file } });

  const first = await request(node.url, '/prod/pets');
  assert.equal(first.status, 200);
  // Batches reach the file at least every second.
  await eventually(() => lines(file).length === 1, 10_000);
  assert.equal(lines(file)[0]!.requestId, first.headers['x-amzn-requestid']);

  renameSync(file, `${file}.1`);
  node.proc.kill('SIGHUP');
  // The reopen is synchronous in the signal handler; wait until a request's line lands in the new file.
  await eventually(async () => {
    await request(node!.url, '/prod/pets');
    return lines(file).length > 0;
  }, 10_000);
  assert.equal(lines(`${file}.1`).length, 1, 'the moved file keeps the line written before the rotation');
  for (const l of lines(file)) assert.equal(l.resourcePath, '/pets');
});
