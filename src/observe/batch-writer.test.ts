// The access log's batching writer against real files and /dev/full: lines wait for a full batch or
// the interval, reopen() follows logrotate, the cap holds queued plus in-flight lines, and a failing
// destination drops and reports rather than throwing.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openBatchWriter, type BatchWriterOptions } from './batch-writer.ts';

const tmp = mkdtempSync(join(tmpdir(), 'portcullis-batch-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function options(over: Partial<BatchWriterOptions> = {}): BatchWriterOptions & { drops: number; errors: Error[] } {
  const o = {
    batchChars: 1000,
    maxBufferChars: 100_000,
    flushIntervalMs: 0,
    drops: 0,
    errors: [] as Error[],
    onDrop: () => o.drops++,
    onError: (err: Error) => o.errors.push(err),
    ...over,
  };
  return o;
}

const read = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');

describe('openBatchWriter', () => {
  it('holds lines until a batch is full, then writes them in order in one go', async () => {
    const file = join(tmp, 'batch.log');
    const w = openBatchWriter({ file }, options({ batchChars: 100 }));
    for (let i = 0; i < 5; i++) w.write(`line ${i}\n`);
    await sleep(30);
    assert.equal(read(file), '', 'below the batch size nothing is written without a flush');
    w.write(`${'x'.repeat(80)}\n`);
    await w.flush();
    assert.equal(read(file), `line 0\nline 1\nline 2\nline 3\nline 4\n${'x'.repeat(80)}\n`);
    assert.equal(await w.close(1000), true);
  });

  it('writes a quiet destination at least every flushIntervalMs', async () => {
    const file = join(tmp, 'interval.log');
    const w = openBatchWriter({ file }, options({ batchChars: 1 << 20, flushIntervalMs: 20 }));
    w.write('only line\n');
    for (let i = 0; i < 50 && read(file) === ''; i++) await sleep(10);
    assert.equal(read(file), 'only line\n');
    await w.close(1000);
  });

  it('reopen() moves on to a new file at the path after logrotate renamed the old one', async () => {
    const file = join(tmp, 'rotate.log');
    const w = openBatchWriter({ file }, options());
    w.write('before\n');
    await w.flush();
    renameSync(file, `${file}.1`);
    w.write('queued across the rotation\n');
    w.reopen();
    w.write('after\n');
    await w.close(1000);
    assert.equal(read(`${file}.1`), 'before\n');
    assert.equal(read(file), 'queued across the rotation\nafter\n');
  });

  it('bounds queued plus in-flight characters and counts each dropped line', async () => {
    const file = join(tmp, 'cap.log');
    const o = options({ batchChars: 500, maxBufferChars: 2000 });
    const w = openBatchWriter({ file }, o);
    for (let i = 0; i < 100; i++) w.write(`${String(i).padStart(3, '0')} ${'y'.repeat(95)}\n`);
    assert.ok(o.drops > 0, 'a synchronous burst past the cap drops');
    await w.close(1000);
    const lines = read(file).split('\n').filter(Boolean);
    assert.equal(lines.length + o.drops, 100);
    assert.ok(lines.length * 100 <= 2000);
    for (const l of lines) assert.match(l, /^\d{3} y{95}$/);
  });

  it('a destination that fails (a full disk: /dev/full) drops its lines and reports, without throwing', async () => {
    const o = options({ batchChars: 10 });
    const w = openBatchWriter({ file: '/dev/full' }, o);
    w.write('first line\n');
    w.write('second line\n');
    await w.flush();
    assert.equal(o.drops, 2);
    assert.equal((o.errors[0] as NodeJS.ErrnoException).code, 'ENOSPC');
    w.write('third line\n');
    await w.flush();
    assert.equal(o.drops, 3, 'a full disk is not final: later lines are tried, and dropped while it stays full');
    await w.close(1000);
    w.write('after close\n');
    assert.equal(o.drops, 4);
  });
});
