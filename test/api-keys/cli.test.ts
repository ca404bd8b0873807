// `portcullis keys|plans|usage` as a user runs them (node bin/portcullis.js in a child process) against a real
// gateway: create prints the value once, list/show never do, enable/disable/rotate/delete, CSV import with
// problems by row, export without values, subscriptions, and usage as json/csv/table.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
let gw: TestGateway;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...clean, PORTCULLIS_ADMIN_URL: gw.adminUrl, PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
const call = (key: string) => request(gw.url, '/prod/pets', { headers: { 'x-api-key': key } });

before(async () => {
  gw = await startTestGateway({
    apis: [{ name: 'pets', stages: { prod: {} }, routes: [{ method: 'GET', path: '/pets', apiKeyRequired: true, integration: { type: 'mock' } }] }],
    usagePlans: [
      { name: 'gold', apiStages: [{ api: 'pets', stage: 'prod' }], quota: { limit: 100, period: 'MONTH' } },
      { name: 'silver', apiStages: [{ api: 'pets', stage: 'prod' }] },
    ],
  });
});
after(() => gw?.close());

describe('portcullis keys / plans / usage', () => {
  test('create, list, show, disable, enable, rotate, delete', async () => {
    const created = await cli(['keys', 'create', '--name', 'alice', '--plan', 'gold', '--tag', 'team=a', '--expires', '30d']);
    assert.equal(created.code, 0, created.stderr);
    const value = /\n  (pck_\w+)\n/.exec(created.stdout)?.[1];
    assert.ok(value, created.stdout);
    const id = /created API key (\S+)/.exec(created.stdout)![1]!;
    assert.equal((await call(value)).status, 200);
    const list = await cli(['keys', 'list']);
    assert.match(list.stdout, /alice/);
    assert.equal(list.stdout.includes(value), false);
    const show = await cli(['keys', 'show', id]);
    assert.match(show.stdout, /team=a/);
    assert.match(show.stdout, /gold/);
    assert.equal((await cli(['keys', 'disable', id])).code, 0);
    await eventually(async () => (await call(value)).status === 403);
    assert.equal((await cli(['keys', 'enable', id])).code, 0);
    await eventually(async () => (await call(value)).status === 200);
    const rotated = await cli(['keys', 'rotate', id, '--grace', '1h']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = /\n  (pck_\w+)\n/.exec(rotated.stdout)![1]!;
    await eventually(async () => (await call(fresh)).status === 200);
    assert.equal((await call(value)).status, 200, 'the old value works during the grace period');
    assert.equal((await cli(['keys', 'delete', id])).code, 0);
    await eventually(async () => (await call(fresh)).status === 403);
    const missing = await cli(['keys', 'show', id]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /does not exist/);
  });

  test('import reports problems by row and changes nothing; a good file imports; export has no values', async () => {
    const bad = join(gw.dir, 'bad.csv');
    await writeFile(bad, 'Name,Key\nok,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nbroken,"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n');
    const r = await cli(['keys', 'import', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.csv:3: a double quote opened on this row is never closed/);
    const good = join(gw.dir, 'good.csv');
    await writeFile(good, 'name,key,usageplanids\nk1,cccccccccccccccccccccccccccccc,silver\n');
    const ok = await cli(['keys', 'import', good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /1 key created/);
    await eventually(async () => (await call('cccccccccccccccccccccccccccccc')).status === 200);
    const exported = await cli(['keys', 'export']);
    assert.match(exported.stdout, /^Id,Name,Description,Enabled,UsagePlanIds/);
    assert.equal(exported.stdout.includes('cccccccccccccccccccccccccccccc'), false);
  });

  test('a large import shows its progress (rows checked, then the write) and every key works', async () => {
    const big = join(gw.dir, 'big.csv');
    const value = (i: number) => `bigkey${String(i).padStart(24, '0')}`;
    await writeFile(big, 'Name,Key,UsagePlanIds\n' + Array.from({ length: 12_000 }, (_, i) => `b${i},${value(i)},silver`).join('\n') + '\n');
    const r = await cli(['keys', 'import', big]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /read 12000 rows from .*big\.csv; importing/);
    assert.match(r.stderr, /checked 5,000 of 12,000 rows \(41%\)\n.*checked 10,000 of 12,000 rows \(83%\)\n.*writing 12,000 keys in one transaction/s);
    assert.match(r.stdout, /12000 keys created, 0 updated/);
    await eventually(async () => (await call(value(11_999))).status === 200);
    const job = await request(gw.adminUrl, '/v1/api-keys/import-jobs/imp_nope', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(job.status, 404);
  });

  test('plans list, subscribe conflicts, usage in three formats', async () => {
    const plans = await cli(['plans', 'list']);
    assert.match(plans.stdout, /gold\s+pets\/prod\s+-\s+100\/MONTH/);
    const created = await cli(['keys', 'create', '--name', 'bob', '--plan', 'silver']);
    const id = /created API key (\S+)/.exec(created.stdout)![1]!;
    const clash = await cli(['plans', 'subscribe', '--plan', 'gold', '--key', id]);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /only one plan per API stage/);
    assert.equal((await cli(['plans', 'unsubscribe', '--plan', 'silver', '--key', id])).code, 0);
    assert.equal((await cli(['plans', 'subscribe', '--plan', 'gold', '--key', id])).code, 0);
    const today = new Date().toISOString().slice(0, 10);
    const value = /\n  (pck_\w+)\n/.exec(created.stdout)![1]!;
    await eventually(async () => (await call(value)).status === 200);
    await eventually(async () => (await cli(['usage', '--plan', 'gold', '--from', today, '--to', today, '--key', id, '--format', 'csv'])).stdout.includes(`${id},${today},1,99`));
    const table = await cli(['usage', '--plan', 'gold', '--from', today, '--to', today, '--key', id]);
    assert.match(table.stdout, new RegExp(`${id}\\s+${today}\\s+1\\s+99`));
    const json = JSON.parse((await cli(['usage', '--plan', 'gold', '--from', today, '--to', today, '--key', id, '--format', 'json'])).stdout);
    assert.deepEqual(json.values[id], [[1, 99]]);
  });
});
