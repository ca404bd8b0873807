// The application logger: JSON lines, level filtering, component children, and redaction of
// credentials (Authorization, x-api-key, cookies, tokens, secrets, passwords, API key values).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { closeLogger, componentLogger, createLogger, flushLogger, REDACTED } from './logger.ts';
import { fakeContext, recordingStream } from './test-support.ts';

function capture(level: 'info' | 'debug' | 'warn' = 'info') {
  const sink = recordingStream();
  const logger = createLogger({ level, destination: { stream: sink } });
  return { logger, records: () => sink.lines().map((l) => JSON.parse(l) as Record<string, unknown>), text: () => sink.text() };
}

describe('createLogger', () => {
  it('writes JSON lines with a level label, an ISO time and the message', () => {
    const { logger, records } = capture();
    logger.info({ revision: 3 }, 'deployed');
    const [rec] = records();
    assert.equal(rec.level, 'info');
    assert.equal(rec.msg, 'deployed');
    assert.equal(rec.revision, 3);
    assert.match(String(rec.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('filters by level', () => {
    const { logger, records } = capture('warn');
    logger.info('hidden');
    logger.warn('shown');
    assert.deepEqual(records().map((r) => r.msg), ['shown']);
  });

  it('refuses an unknown level, naming the valid ones', () => {
    assert.throws(() => createLogger({ level: 'verbose', destination: { stream: recordingStream() } }), /unknown log level "verbose" \(use one of fatal, error, warn, info, debug, trace, silent\)/);
  });

  it('tags component children', () => {
    const { logger, records } = capture();
    const admin = componentLogger(logger, 'admin', { listener: 'admin' });
    admin.info('started');
    const [rec] = records();
    assert.equal(rec.component, 'admin');
    assert.equal(rec.listener, 'admin');
  });

  it('redacts credentials in request headers and in nested secrets', () => {
    const { logger, records, text } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer SECRET-1', 'x-api-key': 'SECRET-2', cookie: 'sid=SECRET-3', host: 'api.example.com' } },
        principal: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'SECRET-4' },
        jwks: { token: 'SECRET-5' },
        store: { password: 'SECRET-6' },
        signer: { secret: 'SECRET-7' },
        apiKey: { id: 'key-1', value: 'SECRET-8' },
        token: 'SECRET-9',
      },
      'request',
    );
    assert.ok(!text().includes('SECRET'), text());
    const [rec] = records() as [Record<string, any>];
    assert.equal(rec.req.headers.authorization, REDACTED);
    assert.equal(rec.req.headers['x-api-key'], REDACTED);
    assert.equal(rec.req.headers.cookie, REDACTED);
    assert.equal(rec.req.headers.host, 'api.example.com');
    assert.equal(rec.principal.accessKeyId, 'AKIDEXAMPLE');
    assert.equal(rec.apiKey.id, 'key-1');
    assert.equal(rec.apiKey.value, REDACTED);
  });

  it('serialises a real IncomingMessage without its query string and with headers redacted', () => {
    const { logger, records, text } = capture();
    const ctx = fakeContext({
      url: '/prod/pets?X-Amz-Security-Token=SECRET-1&x=1',
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=SECRET-2', 'user-agent': 'curl/8' },
    });
    logger.warn({ req: ctx.req }, 'denied');
    assert.ok(!text().includes('SECRET'), text());
    const [rec] = records() as [Record<string, any>];
    assert.equal(rec.req.method, 'GET');
    assert.equal(rec.req.path, '/prod/pets');
    assert.equal(rec.req.headers.authorization, REDACTED);
    assert.equal(rec.req.headers['user-agent'], 'curl/8');
  });

  it('serialises errors with their stack', () => {
    const { logger, records } = capture();
    logger.error({ err: new Error('boom') }, 'failed');
    const [rec] = records() as [Record<string, any>];
    assert.equal(rec.err.message, 'boom');
    assert.match(rec.err.stack, /Error: boom/);
  });

  it('writes to a file through the non-blocking destination', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-logger-'));
    try {
      const file = join(dir, 'app.log');
      const logger = createLogger({ destination: { file } });
      logger.info({ password: 'SECRET' }, 'to file');
      assert.equal(await flushLogger(logger), true);
      const rec = JSON.parse(readFileSync(file, 'utf8').trim());
      assert.equal(rec.msg, 'to file');
      assert.equal(rec.password, REDACTED);
      logger.info('second');
      assert.equal(await closeLogger(logger), true);
      assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
