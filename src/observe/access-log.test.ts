// Access-log formats (presets byte for byte, custom lines, validation, escaping and log injection) and
// the writer (raw lines, bounded buffering with counted drops, flush and close, SIGTERM in a child).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { pathToFileURL } from 'node:url';
import { RequestContext } from '../gateway/pipeline/context.ts';
import {
  ACCESS_LOG_PRESETS,
  AccessLogFormatError,
  AWS_JSON_FORMAT,
  compileAccessLogFormat,
  createAccessLogger,
  JSON_PRESET_FIELDS,
  takeLineAscii,
} from './access-log.ts';
import { CONTEXT_VARIABLE_NAMES } from './context-variables.ts';
import { finishedContext, recordingStream } from './test-support.ts';

const RID = 'c0ffee00-1111-4222-8333-444455556666';
const XID = 'AbCdEfGhIjKl';
const TIME = '05/Jan/2026:03:04:05 +0000';
const EPOCH = Date.UTC(2026, 0, 5, 3, 4, 5, 678);

const tmp = mkdtempSync(join(tmpdir(), 'portcullis-access-log-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('presets', () => {
  const ctx = finishedContext();

  it('CLF is AWS console preset', () => {
    assert.equal(
      compileAccessLogFormat('CLF')(ctx),
      `203.0.113.7 - - [${TIME}] "GET /pets/{id} HTTP/1.1" 200 42 ${RID} ${XID}`,
    );
  });

  it('CSV is AWS console preset', () => {
    assert.equal(compileAccessLogFormat('CSV')(ctx), `203.0.113.7,-,-,${TIME},GET,/pets/{id},HTTP/1.1,200,42,${RID},${XID}`);
  });

  it('XML is AWS console preset', () => {
    assert.equal(
      compileAccessLogFormat('XML')(ctx),
      `<request id="${RID}"> <extendedRequestId>${XID}</extendedRequestId> <ip>203.0.113.7</ip> <caller>-</caller> ` +
        `<user>-</user> <requestTime>${TIME}</requestTime> <httpMethod>GET</httpMethod> <resourcePath>/pets/{id}</resourcePath> ` +
        `<status>200</status> <protocol>HTTP/1.1</protocol> <responseLength>42</responseLength> </request>`,
    );
  });

  it('JSON is AWS preset fields plus ours, every value a string', () => {
    const line = compileAccessLogFormat('JSON')(ctx);
    assert.equal(
      line,
      `{"requestId":"${RID}","extendedRequestId":"${XID}","ip":"203.0.113.7","caller":"-","user":"-",` +
        `"requestTime":"${TIME}","requestTimeEpoch":"${EPOCH}","httpMethod":"GET","resourcePath":"/pets/{id}",` +
        `"path":"/prod/pets/1","status":"200","protocol":"HTTP/1.1","responseLength":"42","integrationLatency":"9",` +
        `"responseLatency":"12","apiId":"a1b2c3d4e5","stage":"prod","errorMessage":"-","errorResponseType":"-","apiKeyId":"-","apiKeyHash":"-"}`,
    );
    assert.deepEqual(Object.keys(JSON.parse(line)), JSON_PRESET_FIELDS.map(([f]) => f));
  });

  it('preset names are case-insensitive and a denial fills the error fields', () => {
    const denied = finishedContext();
    denied.status = 403;
    denied.error = { message: 'Forbidden', messageString: '"Forbidden"', responseType: 'INVALID_API_KEY', validationErrorString: '' };
    denied.identity.apiKeyId = 'key-17';
    const rec = JSON.parse(compileAccessLogFormat(' json ')(denied));
    assert.equal(rec.status, '403');
    assert.equal(rec.errorMessage, 'Forbidden');
    assert.equal(rec.errorResponseType, 'INVALID_API_KEY');
    assert.equal(rec.apiKeyId, 'key-17');
  });

  it("AWS's own JSON preset works as a custom format", () => {
    const rec = JSON.parse(compileAccessLogFormat(AWS_JSON_FORMAT)(ctx));
    assert.deepEqual(rec, {
      requestId: RID, extendedRequestId: XID, ip: '203.0.113.7', caller: '-', user: '-', requestTime: TIME,
      httpMethod: 'GET', resourcePath: '/pets/{id}', status: '200', protocol: 'HTTP/1.1', responseLength: '42',
    });
  });
});

describe('custom formats', () => {
  const ctx = finishedContext({ headers: { 'user-agent': 'curl/8.5.0' } });

  it('substitutes variables, longest match on name characters', () => {
    const f = compileAccessLogFormat('$context.requestId|$context.httpMethod:$context.status/$context.identity.userAgent.');
    assert.equal(f(ctx), `${RID}|GET:200/curl/8.5.0.`);
  });

  it('keeps a $ that starts no name, and a trailing newline is ignored', () => {
    assert.equal(compileAccessLogFormat('$context.requestId costs $5 $\n')(ctx), `${RID} costs $5 $`);
  });

  it('reads authorizer values and claims', () => {
    ctx.authorizer = { principalId: 'user-1', claims: { sub: 'abc' } };
    assert.equal(
      compileAccessLogFormat('$context.requestId $context.authorizer.principalId $context.authorizer.claims.sub')(ctx),
      `${RID} user-1 abc`,
    );
  });

  it('passes accountId through', () => {
    assert.equal(compileAccessLogFormat('$context.requestId $context.accountId', { accountId: '123456789012' })(ctx), `${RID} 123456789012`);
  });

  it('accepts extendedRequestId alone', () => {
    assert.equal(compileAccessLogFormat('id=$context.extendedRequestId')(ctx), `id=${XID}`);
  });

  const rejects = (format: string, pattern: RegExp) =>
    assert.throws(
      () => compileAccessLogFormat(format),
      (err: unknown) => err instanceof AccessLogFormatError && err.code === 'INVALID_ACCESS_LOG_FORMAT' && pattern.test(err.message),
      format,
    );

  it('rejects an unknown variable, naming it', () => {
    rejects('$context.requestId $context.identity.sourceIP', /unknown \$context variable "\$context\.identity\.sourceIP"/);
    rejects('$context.requestId $context.requestIdx', /"\$context\.requestIdx"/);
  });

  it('rejects a format without requestId or extendedRequestId', () => {
    rejects('$context.httpMethod $context.status', /must include \$context\.requestId or \$context\.extendedRequestId/);
    rejects('requestId', /must include/);
  });

  it('rejects other namespaces, empty names, several lines and oversize formats', () => {
    rejects('$context.requestId $input.body', /only \$context variables.*"\$input\.body"/);
    rejects('$context.requestId $stageVariables.x', /"\$stageVariables\.x"/);
    rejects('$context.requestId ${context.status}', /"\$\{context\.status"/);
    rejects('$context.requestId $context.', /without a variable name/);
    rejects('$context.requestId\n$context.status', /single line/);
    rejects(`$context.requestId ${'x'.repeat(3072)}`, /longer than 3072/);
  });
});

describe('escaping and log injection', () => {
  const HOSTILE = 'evil"\\ \r\n{"forged":true}\u2028<x>&\'a,b\u001b[31m';

  function hostileContext() {
    const ctx = finishedContext({ headers: { 'user-agent': HOSTILE } });
    ctx.identity.caller = HOSTILE;
    ctx.identity.user = HOSTILE;
    return ctx;
  }

  it('JSON templates stay valid JSON with the value intact (minus line breaks and controls)', () => {
    const f = compileAccessLogFormat('{"requestId":"$context.requestId","ua":"$context.identity.userAgent","escaped\\"key":"$context.identity.user"}');
    const line = f(hostileContext());
    assert.ok(!/[\r\n\u2028\u001b]/.test(line), line);
    const rec = JSON.parse(line);
    const expected = 'evil"\\ {"forged":true}<x>&\'a,b[31m';
    assert.equal(rec.ua, expected);
    assert.equal(rec['escaped"key'], expected);
    assert.equal(rec.forged, undefined);
  });

  it('JSON values outside quotes become JSON literals (strings quoted, missing null)', () => {
    const f = compileAccessLogFormat('{"requestId":"$context.requestId","ua":$context.identity.userAgent,"status":$context.status,"caller":$context.identity.caller}');
    const ctx = finishedContext({ headers: { 'user-agent': '1,"admin":true' } });
    assert.deepEqual(JSON.parse(f(ctx)), { requestId: RID, ua: '1,"admin":true', status: 200, caller: null });
  });

  it('every preset strips line breaks and controls, and the JSON preset still parses', () => {
    for (const name of Object.keys(ACCESS_LOG_PRESETS)) {
      const line = compileAccessLogFormat(name)(hostileContext());
      assert.ok(!/[\r\n\u2028\u0085\u001b]/.test(line), `${name}: ${line}`);
    }
    const rec = JSON.parse(compileAccessLogFormat('JSON')(hostileContext()));
    assert.equal(rec.caller, 'evil"\\ {"forged":true}<x>&\'a,b[31m');
  });

  it('CLF escapes quotes and backslashes as Apache does', () => {
    const ctx = finishedContext();
    ctx.resourcePath = '/a"b\\c';
    assert.equal(compileAccessLogFormat('CLF')(ctx), `203.0.113.7 - - [${TIME}] "GET /a\\"b\\\\c HTTP/1.1" 200 42 ${RID} ${XID}`);
  });

  it('CSV quotes fields holding commas or quotes (RFC 4180)', () => {
    const ctx = finishedContext();
    ctx.identity.caller = 'a,b';
    ctx.identity.user = 'say "hi"';
    assert.equal(
      compileAccessLogFormat('CSV')(ctx),
      `203.0.113.7,"a,b","say ""hi""",${TIME},GET,/pets/{id},HTTP/1.1,200,42,${RID},${XID}`,
    );
    // A custom CSV whose fields are already quoted: only the inner quotes are doubled.
    assert.equal(compileAccessLogFormat('"$context.requestId","$context.identity.user"')(ctx), `"${RID}","say ""hi"""`);
  });

  it('XML escapes markup in elements and attributes', () => {
    const ctx = finishedContext();
    ctx.identity.user = '</user><admin>&"\'';
    const line = compileAccessLogFormat('XML')(ctx);
    assert.ok(line.includes('<user>&lt;/user&gt;&lt;admin&gt;&amp;&quot;&apos;</user>'), line);
    const f = compileAccessLogFormat('<r id="$context.requestId" who="$context.identity.user"/>');
    assert.equal(f(ctx), `<r id="${RID}" who="&lt;/user&gt;&lt;admin&gt;&amp;&quot;&apos;"/>`);
  });

  it('a process that forbids code generation from strings gets the same lines from the fallback', () => {
    const formats = [
      ...Object.keys(ACCESS_LOG_PRESETS),
      '{"requestId":"$context.requestId","ua":$context.identity.userAgent,"status":$context.status,"caller":$context.identity.caller}',
      '$context.requestId "$context.identity.userAgent" $context.responseLatency',
    ];
    const script = join(tmp, 'no-codegen.mjs');
    const here = (name: string) => JSON.stringify(pathToFileURL(join(import.meta.dirname, name)).href);
    writeFileSync(script, `
      const { compileAccessLogFormat } = await import(${here('access-log.ts')});
      const { finishedContext } = await import(${here('test-support.ts')});
      let generated = true;
      try { new Function('return 1'); } catch { generated = false; }
      const ctx = finishedContext({ headers: { 'user-agent': ${JSON.stringify(HOSTILE)} } });
      ctx.identity.user = ${JSON.stringify(HOSTILE)};
      ctx.identity.caller = 'a "caller"';
      process.stdout.write(JSON.stringify({ generated, lines: ${JSON.stringify(formats)}.map((f) => compileAccessLogFormat(f)(ctx)) }));
    `);
    const run = spawnSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const child = JSON.parse(run.stdout) as { generated: boolean; lines: string[] };
    assert.equal(child.generated, false, 'the child really runs without code generation');
    const ctx = hostileContext();
    ctx.identity.caller = 'a "caller"';
    assert.deepEqual(child.lines, formats.map((f) => compileAccessLogFormat(f)(ctx)));
  });

  it('every UTF-16 code unit, at the start, middle and end of a value, is escaped as if every value were escaped', () => {
    // The formatter skips the escaper for values it scans as harmless; the oracle escapes unconditionally.
    const strip = (s: string) => s.replace(/[\u0000-\u001f\u007f\u0085\u2028\u2029]/g, '');
    const xml: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
    const cases: Array<[format: string, oracle: (v: string) => string]> = [
      ['{"requestId":"$context.requestId","v":"$context.path"}', (v) => `{"requestId":"${RID}","v":"${JSON.stringify(strip(v)).slice(1, -1)}"}`],
      ['{"requestId":"$context.requestId","v":$context.path}', (v) => `{"requestId":"${RID}","v":${JSON.stringify(strip(v))}}`],
      ['<r id="$context.requestId">$context.path</r>', (v) => `<r id="${RID}">${strip(v).replace(/[&<>"']/g, (c) => xml[c])}</r>`],
      ['$context.requestId,$context.path', (v) => {
        const s = strip(v);
        return `${RID},${s.includes(',') || s.includes('"') ? `"${s.replaceAll('"', '""')}"` : s}`;
      }],
      ['$context.requestId "$context.path"', (v) => `${RID} "${strip(v).replace(/["\\]/g, '\\$&')}"`],
    ];
    const ctx = finishedContext();
    for (const [format, oracle] of cases) {
      const f = compileAccessLogFormat(format);
      for (let c = 0; c <= 0xffff; c++) {
        const ch = String.fromCharCode(c);
        for (const v of [`${ch}/pets`, `/pe${ch}ts`, `/pets${ch}`]) {
          ctx.path = v;
          const line = f(ctx);
          if (line !== oracle(v)) assert.equal(line, oracle(v), `${format} with U+${c.toString(16).padStart(4, '0')} in ${JSON.stringify(v)}`);
        }
      }
    }
  });
});

describe('credentials never reach the access log', () => {
  it('sends Authorization, x-api-key and Cookie through a real server and finds none in any line', async () => {
    const SECRETS = {
      authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig-SECRET-1',
      'x-api-key': 'apikey-SECRET-2-0123456789abcdef',
      cookie: 'session=SECRET-3; other=SECRET-4',
      'x-amz-security-token': 'SECRET-5-session-token',
    };
    const everything = `$context.requestId ${CONTEXT_VARIABLE_NAMES.map((n) => `$context.${n}`).join(' ')} ` +
      '$context.authorizer.principalId $context.authorizer.claims.sub $context.accountId';
    const formats = [...Object.keys(ACCESS_LOG_PRESETS), everything].map((f) => compileAccessLogFormat(f));
    const sink = recordingStream();
    const log = createAccessLogger({ destination: { stream: sink } });

    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const ctx = new RequestContext({
        req, res, requestId: RID, extendedRequestId: XID, requestTimeEpoch: EPOCH, startedAt: performance.now(),
        rawPath: q === -1 ? url : url.slice(0, q), rawQuery: q === -1 ? '' : url.slice(q + 1),
        sourceIp: req.socket.remoteAddress ?? '', secureTransport: false, domainName: 'localhost',
      });
      ctx.path = ctx.rawPath;
      res.once('close', () => {
        ctx.status = res.statusCode;
        for (const f of formats) log.log(ctx, f);
      });
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const r = request({ host: '127.0.0.1', port, path: '/prod/pets?X-Amz-Security-Token=SECRET-6&api_key=SECRET-7', headers: SECRETS }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        r.on('error', reject);
        r.end();
      });
      await new Promise<void>((resolve) => setImmediate(resolve));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await log.close();
    const lines = sink.lines();
    assert.equal(lines.length, formats.length);
    for (const line of lines) assert.ok(!line.includes('SECRET'), line);
  });
});

describe('createAccessLogger', () => {
  it('writes raw lines, not pino envelopes', async () => {
    const sink = recordingStream();
    const log = createAccessLogger({ destination: { stream: sink } });
    log.write('first');
    log.log(finishedContext(), compileAccessLogFormat('CSV'));
    assert.equal(await log.flush(), true);
    assert.deepEqual(sink.lines(), ['first', `203.0.113.7,-,-,${TIME},GET,/pets/{id},HTTP/1.1,200,42,${RID},${XID}`]);
    assert.equal(log.droppedLines, 0);
    await log.close();
  });

  it('drops and counts lines a never-draining stream cannot take, holding at most the cap', async () => {
    const cap = 64 * 1024;
    const stuck = new Writable({ highWaterMark: 1024, write() { /* never calls back: the destination is stuck */ } });
    let reported = 0;
    const log = createAccessLogger({ destination: { stream: stuck }, maxBufferBytes: cap, onDrop: (n) => (reported += n) });
    const line = 'x'.repeat(99);
    for (let i = 0; i < 5000; i++) log.write(line);
    assert.equal(log.offeredLines, 5000);
    assert.ok(log.droppedLines > 0);
    assert.ok(log.droppedLines < 5000);
    assert.equal(reported, log.droppedLines);
    assert.ok(stuck.writableLength <= cap, `${stuck.writableLength} bytes held`);
    // Accepted lines are exactly those that fit under the cap.
    assert.equal(5000 - log.droppedLines, Math.floor(cap / 100));
    assert.equal(await log.flush(20), false, 'a stuck destination cannot be flushed');
    stuck.destroy();
    assert.equal(await log.close(), true);
    log.write('after close');
    assert.equal(log.droppedLines, 5001 - Math.floor(cap / 100));
  });

  it('writes batches to a file and closes it with everything written', async () => {
    const file = join(tmp, 'nested', 'access.log');
    const log = createAccessLogger({ destination: { file } });
    for (let i = 0; i < 5; i++) log.write(`line ${i}`);
    assert.equal(await log.flush(), true);
    assert.equal(readFileSync(file, 'utf8'), 'line 0\nline 1\nline 2\nline 3\nline 4\n');
    log.write('line 5');
    assert.equal(await log.close(), true);
    assert.equal(readFileSync(file, 'utf8').split('\n').length, 7);
    log.write('late');
    assert.equal(log.droppedLines, 1);
  });

  it('records logged through log() reach a file as UTF-8 whether their batch is all ASCII or not', async () => {
    const file = join(tmp, 'ascii', 'access.log');
    const log = createAccessLogger({ destination: { file } });
    const f = compileAccessLogFormat('$context.requestId $context.path');
    const paths = ['/plain', '/caf\u00e9', '/\u20ac/\ud83d\ude00', '/\u00ff\u0100'];
    const expected: string[] = [];
    for (const group of [[0, 0], [0, 1], [2, 0], [3], [0]]) {
      for (const i of group) {
        const ctx = finishedContext();
        ctx.path = paths[i]!;
        log.log(ctx, f);
        expected.push(`${RID} ${paths[i]}`);
      }
      assert.equal(await log.flush(), true); // one batch per group
    }
    assert.equal(await log.close(), true);
    assert.deepEqual(readFileSync(file, 'utf8').split('\n').slice(0, -1), expected);
  });

  it('a line is reported ASCII only when it is, and is whenever its values are', () => {
    const formats = ['JSON', 'CLF', 'XML', 'CSV', '{"requestId":"$context.requestId","ua":$context.identity.userAgent}'].map((n) => compileAccessLogFormat(n));
    const ctx = finishedContext();
    const check = (value: string) => {
      ctx.path = value;
      ctx.resourcePath = value;
      ctx.identity.caller = value;
      for (const f of formats) {
        takeLineAscii();
        const line = f(ctx);
        const ascii = takeLineAscii();
        const isAscii = /^[\x00-\x7f]*$/.test(line);
        if (ascii && !isAscii) assert.fail(`reported ASCII: ${JSON.stringify(line)}`);
        if (/^[\x20-\x7e]*$/.test(value) && !/["\\,&<>']/.test(value)) assert.equal(ascii, true, `plain ASCII value ${JSON.stringify(value)} not reported ASCII`);
      }
    };
    for (const v of ['/pets/1', 'caf\u00e9', '\u20ac', 'a"b', '\u007f', '\ud800', '', 'x'.repeat(300) + '\u00e9']) check(v);
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (v) => check(v)), { numRuns: 3000 });
    assert.equal((takeLineAscii(), compileAccessLogFormat('$context.requestId caf\u00e9')(ctx), takeLineAscii()), false, 'a format with non-ASCII text');
  });

  it('drops whole lines past the cap on the file path and writes the rest intact', async () => {
    const file = join(tmp, 'burst.log');
    const cap = 64 * 1024;
    const log = createAccessLogger({ destination: { file }, maxBufferBytes: cap });
    // One synchronous burst: no write completes before the loop ends, so the cap is what holds.
    for (let i = 0; i < 5000; i++) log.write(`${String(i).padStart(6, '0')} ${'y'.repeat(92)}`);
    assert.ok(log.droppedLines > 0);
    assert.equal(await log.close(), true);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 5000 - log.droppedLines);
    assert.ok(lines.length * 100 <= cap);
    for (const l of lines) assert.match(l, /^\d{6} y{92}$/);
  });

  it('flushes buffered stdout lines when the process is told to stop (SIGTERM)', async () => {
    const script = join(tmp, 'child.mjs');
    const moduleUrl = pathToFileURL(join(import.meta.dirname, 'access-log.ts')).href;
    // SIGKILL after close(): no exit hook can write for us, so the lines prove close() flushed them.
    writeFileSync(script, `
      const { createAccessLogger } = await import(${JSON.stringify(moduleUrl)});
      const log = createAccessLogger({ destination: 'stdout', flushIntervalMs: 3600000 });
      for (let i = 0; i < 3; i++) log.write('record ' + i);
      const keepAlive = setInterval(() => {}, 1000);
      process.on('SIGTERM', async () => {
        await log.close();
        clearInterval(keepAlive);
        process.kill(process.pid, 'SIGKILL');
      });
      process.stderr.write('ready\\n');
    `);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d;
        if (err.includes('ready')) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited early: ${err}`)));
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 'SIGKILL');
    assert.equal(out, 'record 0\nrecord 1\nrecord 2\n');
  });

  it('fails at creation, not later, when a file cannot be opened', () => {
    writeFileSync(join(tmp, 'not-a-dir'), '');
    assert.throws(() => createAccessLogger({ destination: { file: join(tmp, 'not-a-dir', 'access.log') } }), /ENOTDIR|EEXIST/);
  });

  it('refuses a cap not above minLength', () => {
    assert.throws(() => createAccessLogger({ destination: { stream: recordingStream() }, maxBufferBytes: 100, minLength: 100 }), RangeError);
  });
});
