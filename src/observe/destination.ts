// Where the access log and the application log write: stdout, stderr, a file (both through pino's
// non-blocking sonic-boom), or a caller-owned Writable (tests, custom shippers); plus drain and close.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';

/** A caller's stream is any writable stream; node's Writable also lets the access log bound its buffer. */
export type LogStream = NodeJS.WritableStream;
export type LogDestination = 'stdout' | 'stderr' | { readonly file: string } | { readonly stream: LogStream };

/** pino's sonic-boom instance (sonic-boom is pino's own dependency, so we name it through pino). */
export type SonicBoom = ReturnType<typeof pino.destination>;

export interface SonicOptions {
  /** Bytes buffered before a write is issued (batches small lines into one syscall). */
  readonly minLength: number;
  /** Bytes buffered at most; sonic-boom drops (and emits 'drop' for) lines past it. 0 = unbounded. */
  readonly maxLength: number;
  /** Flush at least this often (ms) so a quiet gateway's lines do not wait for minLength bytes. */
  readonly periodicFlush: number;
}

export function isStreamDestination(d: LogDestination): d is { readonly stream: LogStream } {
  return typeof d === 'object' && 'stream' in d;
}

/**
 * Opens a non-blocking sonic-boom for stdout/stderr/file. Files are appended to, parents created.
 * A file is opened once synchronously first so a bad path fails at startup with a clear error, instead
 * of an asynchronous 'error' and a sonic-boom that can never be flushed at exit.
 */
export function openSonic(d: Exclude<LogDestination, { readonly stream: LogStream }>, o: SonicOptions): SonicBoom {
  const dest = d === 'stdout' ? 1 : d === 'stderr' ? 2 : d.file;
  if (typeof dest === 'string') {
    mkdirSync(dirname(dest), { recursive: true });
    closeSync(openSync(dest, 'a'));
  }
  return pino.destination({
    dest,
    sync: false,
    minLength: o.minLength,
    maxLength: o.maxLength,
    periodicFlush: o.periodicFlush,
    mkdir: typeof dest === 'string',
    append: true,
  });
}

/** sonic-boom state its type declarations omit (stable across sonic-boom 4.x). */
interface SonicState {
  /** Bytes held: queued plus in flight. */
  readonly _len: number;
  readonly destroyed: boolean;
  readonly minLength: number;
}
const state = (s: SonicBoom): SonicState => s as unknown as SonicState;

export function isSonic(s: unknown): s is SonicBoom {
  return typeof s === 'object' && s !== null && typeof (s as Partial<SonicState>)._len === 'number' && 'flushSync' in s;
}

/** Waits until sonic-boom has written everything it holds (or it failed or was destroyed). */
export async function drainSonic(s: SonicBoom): Promise<void> {
  // sonic-boom's flush(cb) fires on the next 'drain', which can leave up to minLength bytes written
  // meanwhile still buffered, and with minLength 0 it calls back at once: wait on 'drain' ourselves
  // and repeat while bytes remain (bounded, in case writes keep arriving).
  for (let i = 0; i < 16 && !state(s).destroyed && state(s)._len > 0; i++) {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        s.off('drain', done);
        s.off('error', done);
        s.off('close', done);
        resolve();
      };
      s.once('drain', done);
      s.once('error', done);
      s.once('close', done);
      // An fsync error in flush's callback (EINVAL on pipes and terminals) still means bytes were written.
      if (state(s).minLength > 0) s.flush(() => {});
    });
  }
}

/** end(): writes everything held, then closes the file (never fd 1 or 2). Destroys it on timeout. */
export async function closeSonic(s: SonicBoom, timeoutMs: number): Promise<boolean> {
  const ended = new Promise<void>((resolve) => {
    if (state(s).destroyed) return resolve();
    s.once('close', () => resolve());
    s.end();
  });
  const ok = await withTimeout(ended, timeoutMs);
  if (!ok && !state(s).destroyed) s.destroy();
  return ok;
}

/**
 * Resolves true when p settles in time, false otherwise. The timer is ref'd on purpose: a caller
 * awaiting a shutdown flush gets its answer even if nothing else keeps the event loop running.
 */
export function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}

/** A default error reporter: the first failure of a destination goes to stderr, later ones are counted only. */
export function reportOnce(what: string): (err: Error) => void {
  let reported = false;
  return (err) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`portcullis: ${what} failed: ${err.message}\n`);
  };
}
