// Execution logs through a real gateway: a stage at ERROR logs why a request was refused (which bucket throttled,
// which key check failed) in AWS's words, another at OFF logs nothing, and no credential appears.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const appLog: Array<{ component?: string; msg: string; lines?: string[]; stage?: string; requestId?: string }> = [];
let gw: TestGateway;

before(async () => {
  const stream = new PassThrough();
  let pending = '';
  stream.on('data', (c: Buffer) => {
    pending += c.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) {
      appLog.push(JSON.parse(pending.slice(0, nl)));
      pending = pending.slice(nl + 1);
    }
  });
  gw = await startTestGateway(
    {
      apis: [
        {
          name: 'pets',
          stages: {
            prod: { throttle: { rateLimit: 0.001, burstLimit: 1 }, executionLog: { level: 'ERROR' } },
            dev: { throttle: { rateLimit: 0.001, burstLimit: 1 } },
          },
          routes: [
            { method: 'GET', path: '/pets', integration: { type: 'mock', body: { ok: true } } },
            { method: 'GET', path: '/keyed', apiKeyRequired: true, integration: { type: 'mock', body: { ok: true } } },
          ],
        },
      ],
    },
    { logLevel: 'info', logDestination: { stream } },
  );
});
after(() => gw?.close());

const execution = () => appLog.filter((e) => e.component === 'execution');

test('a refused request is explained in the execution log of its stage, in AWS words', async () => {
  assert.equal((await request(gw.url, '/prod/pets')).status, 200);
  const refused = await request(gw.url, '/prod/pets');
  assert.equal(refused.status, 429);
  await eventually(() => execution().length > 0);
  const entries = execution();
  assert.equal(entries.length, 1, 'ERROR level: the successful request is not logged');
  const [entry] = entries;
  assert.equal(entry!.requestId, refused.headers['x-amzn-requestid']);
  assert.equal(entry!.stage, 'prod');
  assert.ok(entry!.lines!.some((l) => /throttle|bucket|rate/i.test(l)), entry!.lines!.join(' | '));
  assert.deepEqual(entry!.lines!.slice(-2), ['Gateway response type: THROTTLED with status code: 429', 'Method completed with status: 429']);
});

test('a stage without execution logs writes none; a refused key never appears', async () => {
  await request(gw.url, '/dev/pets');
  await request(gw.url, '/dev/pets');
  const secret = 'pck_' + 'Z'.repeat(40);
  const res = await request(gw.url, '/prod/keyed', { headers: { 'x-api-key': secret } });
  assert.equal(res.status, 403);
  // Lines are written in order: once the last request's entry is there, any entry for dev would be too.
  const keyed = await eventually(() => execution().find((e) => e.requestId === res.headers['x-amzn-requestid']));
  assert.equal(execution().filter((e) => e.stage === 'dev').length, 0);
  assert.ok(keyed, 'the refused key is explained');
  assert.ok(keyed.lines!.some((l) => l.startsWith('api key:')), keyed.lines!.join(' | '));
  assert.ok(!JSON.stringify(appLog).includes(secret), 'the key value is in no log line');
});
