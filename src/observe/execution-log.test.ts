// Execution logs per stage (OFF, ERROR, INFO), in AWS's words, truncated at 1024 bytes, never with a secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from './logger.ts';
import { createExecutionLog } from './execution-log.ts';
import { finishedContext, recordingStream } from './test-support.ts';
import { DefinitionSchema } from '../config/schema.ts';

const definition = DefinitionSchema.parse({
  apis: [
    {
      name: 'pets',
      stages: { prod: { executionLog: { level: 'ERROR' } }, beta: { executionLog: { level: 'INFO' } }, dev: {} },
      routes: [{ method: 'GET', path: '/pets/{id}', integration: { type: 'mock' } }],
    },
  ],
});

function setup() {
  const out = recordingStream();
  const log = createExecutionLog(createLogger({ level: 'info', destination: { stream: out } }));
  log.configure(definition);
  const entries = () => out.lines().map((l) => JSON.parse(l) as { level: string; msg: string; requestId: string; lines: string[]; stage: string });
  return { log, entries };
}

const refused = (stage: string, detail: string) => {
  const ctx = finishedContext();
  ctx.stage = stage;
  ctx.status = 429;
  ctx.error = { message: 'Too Many Requests', messageString: '"Too Many Requests"', responseType: 'THROTTLED', validationErrorString: '' };
  ctx.denialDetail = detail;
  return ctx;
};

test('ERROR logs refused requests only; INFO logs every request; OFF (the default) nothing', async () => {
  const { log, entries } = setup();
  const ok = (stage: string) => Object.assign(finishedContext(), { stage });
  log.onRequestEnd(ok('prod'));
  log.onRequestEnd(refused('prod', 'Usage Plan gold: throttle bucket pk:gold:k1 empty'));
  log.onRequestEnd(ok('beta'));
  log.onRequestEnd(ok('dev'));
  log.onRequestEnd(refused('dev', 'x'));
  await new Promise((r) => setImmediate(r));
  const e = entries();
  assert.deepEqual(e.map((x) => [x.stage, x.level]), [['prod', 'warn'], ['beta', 'info']]);
  assert.deepEqual(e[0]!.lines, [
    'Usage Plan gold: throttle bucket pk:gold:k1 empty',
    'Gateway response type: THROTTLED with status code: 429',
    'Method completed with status: 429',
  ]);
  assert.deepEqual(e[1]!.lines, [
    'Extended Request Id: AbCdEfGhIjKl',
    'Starting execution for request: c0ffee00-1111-4222-8333-444455556666',
    'HTTP Method: GET, Resource Path: /pets/{id}',
    'Method completed with status: 200',
  ]);
});

test('secrets are redacted and lines are cut at 1024 bytes', async () => {
  const { log, entries } = setup();
  log.onRequestEnd(refused('prod', `authorizer said no to Bearer eyJhbGciOi.secret.sig and key pck_${'A'.repeat(40)} ${'x'.repeat(2000)}`));
  await new Promise((r) => setImmediate(r));
  const [line] = entries()[0]!.lines;
  assert.doesNotMatch(line!, /eyJhbGciOi|pck_A/);
  assert.match(line!, /\[REDACTED\]/);
  assert.equal(line!.length, 1024);
  assert.ok(line!.endsWith('...'));
});
