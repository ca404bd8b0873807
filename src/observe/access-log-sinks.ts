// Access-log destinations beyond stdout and a plain file: a file rotated by size and/or time (on the injected
// clock), and an HTTP sink POSTing batches of lines with retry. Both are Writables the access logger bounds;
// the HTTP sink also bounds its own queue, dropping (and counting) lines rather than holding them without end.
import { Writable } from 'node:stream';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { request } from 'undici';
import type { Clock } from '../core/clock.ts';

export interface RotationSettings {
  /** Rotate before a write would take the file past this many bytes. */
  readonly maxBytes?: number;
  /** Rotate when a write falls in a new interval of this many seconds (aligned to the clock, UTC). */
  readonly intervalSeconds?: number;
  /** Rotated files kept: path.1 (newest) ... path.N; older ones are deleted (default 5). */
  readonly keep?: number;
}

/**
 * Appends to `path`, rotating to `path.1`, `path.2`... (neither limit set: never rotates). Lines are written in
 * batches (one write per turn of the event loop's backlog), about half sonic-boom's cost per line. Writes are serialized by the Writable; a failure goes to
 * onError and the stream keeps going with the next write.
 */
export function createRotatingFileStream(
  path: string,
  settings: RotationSettings,
  clock: Clock,
  onError: (err: Error) => void = () => {},
): Writable & { readonly rotations: number } {
  const { maxBytes = 0, intervalSeconds = 0, keep = 5 } = settings;
  mkdirSync(dirname(path), { recursive: true });
  // Opened once now so a bad path fails at startup with a clear error, not on the first request.
  closeSync(openSync(path, 'a', 0o640));
  const intervalMs = intervalSeconds * 1000;
  const slot = () => (intervalMs > 0 ? Math.floor(clock.now() / intervalMs) : 0);
  let fh: FileHandle | undefined;
  let size = 0;
  let current = slot();
  let rotations = 0;

  async function ensureOpen(): Promise<FileHandle> {
    if (!fh) {
      fh = await open(path, 'a', 0o640);
      size = (await fh.stat()).size;
    }
    return fh;
  }

  async function rotate(): Promise<void> {
    await fh?.close();
    fh = undefined;
    for (let i = keep; i >= 1; i--) {
      const from = i === 1 ? path : `${path}.${i - 1}`;
      const exists = await stat(from).then(() => true, () => false);
      if (!exists) continue;
      if (i === keep) await unlink(`${path}.${keep}`).catch(() => undefined);
      await rename(from, `${path}.${i}`);
    }
    if (keep === 0) await unlink(path).catch(() => undefined);
    rotations++;
  }

  const stream = new Writable({
    highWaterMark: 1024 * 1024,
    writev(chunks, cb) {
      const data = Buffer.concat(chunks.map((c) => (typeof c.chunk === 'string' ? Buffer.from(c.chunk) : (c.chunk as Buffer))));
      if (data.length === 0) return cb();
      (async () => {
        await ensureOpen();
        const now = slot();
        if ((intervalMs > 0 && now !== current) || (maxBytes > 0 && size > 0 && size + data.length > maxBytes)) {
          current = now;
          await rotate();
          await ensureOpen();
        }
        await fh!.write(data);
        size += data.length;
      })().then(
        () => cb(),
        (err: Error) => {
          // Report, but keep the stream usable: one failed write must not end access logging.
          onError(err);
          cb();
        },
      );
    },
    final(cb) {
      (fh ? fh.close() : Promise.resolve()).then(() => cb(), () => cb());
    },
  });
  return Object.defineProperty(stream, 'rotations', { get: () => rotations }) as Writable & { readonly rotations: number };
}

export interface HttpLogSinkOptions {
  /** http(s) URL receiving `application/x-ndjson` POSTs. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A batch is sent once it holds this many bytes... */
  readonly batchBytes?: number;
  /** ...or when its first line has waited this long. */
  readonly lingerMs?: number;
  /** Lines waiting at most (bytes); past it lines are dropped and counted. */
  readonly maxQueueBytes?: number;
  /** Retries of a failed batch (backoff 250 ms, 500 ms, 1 s...); then the batch is dropped and counted. */
  readonly retries?: number;
  readonly timeoutMs?: number;
  readonly onDrop?: (lines: number) => void;
  readonly onError?: (err: Error) => void;
}

export function createHttpLogStream({
  url,
  headers = {},
  batchBytes = 256 * 1024,
  lingerMs = 1000,
  maxQueueBytes = 16 * 1024 * 1024,
  retries = 3,
  timeoutMs = 10_000,
  onDrop,
  onError,
}: HttpLogSinkOptions): Writable & { readonly sentLines: number; readonly droppedLines: number } {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error(`the access log HTTP sink must be an http(s) URL, got ${url}`);
  let queue: string[] = [];
  let queued = 0;
  let sending: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sent = 0;
  let dropped = 0;
  const lines = (s: string) => {
    let n = 0;
    for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
    return n;
  };
  const drop = (n: number) => {
    dropped += n;
    onDrop?.(n);
  };

  async function post(body: string): Promise<void> {
    let last: Error | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const res = await request(target, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/x-ndjson' },
          body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        await res.body.dump();
        if (res.statusCode < 300) {
          sent += lines(body);
          return;
        }
        last = new Error(`access log HTTP sink answered ${res.statusCode}`);
        if (res.statusCode < 500 && res.statusCode !== 429) break;
      } catch (err) {
        last = err as Error;
      }
      if (attempt < retries) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt).unref());
    }
    drop(lines(body));
    if (last) onError?.(last);
  }

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (sending) return sending;
    if (queue.length === 0) return Promise.resolve();
    const body = queue.join('');
    queue = [];
    queued = 0;
    sending = post(body).finally(() => {
      sending = undefined;
      if (queued >= batchBytes) void flush();
      else if (queue.length) timer ??= setTimeout(() => void flush(), lingerMs).unref();
    });
    return sending;
  }

  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (text.length === 0) return cb();
      if (queued + text.length > maxQueueBytes) {
        drop(lines(text));
        return cb();
      }
      queue.push(text);
      queued += text.length;
      if (queued >= batchBytes && !sending) void flush();
      else timer ??= setTimeout(() => void flush(), lingerMs).unref();
      cb();
    },
    final(cb) {
      (async () => {
        while (queue.length || sending) await flush();
      })().then(() => cb(), () => cb());
    },
  });
  return Object.defineProperties(stream, {
    sentLines: { get: () => sent },
    droppedLines: { get: () => dropped },
  }) as Writable & { readonly sentLines: number; readonly droppedLines: number };
}
