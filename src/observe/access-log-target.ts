// Where a node writes its access log: StartOptions.accessLogDestination, else PORTCULLIS_ACCESS_LOG (stdout, a file
// path, or an http(s) URL) with PORTCULLIS_ACCESS_LOG_ROTATE_BYTES / _ROTATE_SECONDS / _KEEP for file rotation.
import type { Writable } from 'node:stream';
import type { Clock } from '../core/clock.ts';
import type { LogDestination, LogStream } from './destination.ts';
import { createHttpLogStream, createRotatingFileStream, type RotationSettings } from './access-log-sinks.ts';

export type AccessLogTarget =
  | 'stdout'
  | { readonly file: string; readonly rotate?: RotationSettings }
  | { readonly http: string; readonly headers?: Readonly<Record<string, string>>; readonly batchBytes?: number; readonly lingerMs?: number }
  | { readonly stream: LogStream };

export function accessLogTargetFromEnv(env: NodeJS.ProcessEnv): AccessLogTarget {
  const v = env.PORTCULLIS_ACCESS_LOG;
  if (!v || v === 'stdout') return 'stdout';
  if (/^https?:\/\//i.test(v)) return { http: v };
  const num = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!/^\d{1,15}$/.test(raw)) throw new Error(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  const maxBytes = num('PORTCULLIS_ACCESS_LOG_ROTATE_BYTES');
  const intervalSeconds = num('PORTCULLIS_ACCESS_LOG_ROTATE_SECONDS');
  const keep = num('PORTCULLIS_ACCESS_LOG_KEEP');
  const rotate = maxBytes || intervalSeconds ? { ...(maxBytes ? { maxBytes } : {}), ...(intervalSeconds ? { intervalSeconds } : {}), ...(keep !== undefined ? { keep } : {}) } : undefined;
  return { file: v, ...(rotate ? { rotate } : {}) };
}

/** The LogDestination the access logger writes to, and what closing the node must end (an owned stream). */
export function openAccessLogTarget(
  target: AccessLogTarget,
  deps: { clock: Clock; onDrop: (n: number) => void; onError: (err: Error) => void },
): { destination: LogDestination; owned?: Writable } {
  if (target === 'stdout' || 'stream' in target) return { destination: target };
  if ('http' in target) {
    const stream = createHttpLogStream({ url: target.http, headers: target.headers, batchBytes: target.batchBytes, lingerMs: target.lingerMs, onDrop: deps.onDrop, onError: deps.onError });
    return { destination: { stream }, owned: stream };
  }
  // A plain file goes through the access logger's batching writer (the cheapest per line; reopened on SIGHUP
  // after an external logrotate). A file the gateway rotates itself goes through the rotating appender of
  // access-log-sinks.ts.
  if (target.rotate === undefined) return { destination: { file: target.file } };
  const stream = createRotatingFileStream(target.file, target.rotate, deps.clock, deps.onError);
  return { destination: { stream }, owned: stream };
}

/** Ends an owned stream (the HTTP sink sends what it holds), giving up after timeoutMs. */
export function endOwned(stream: Writable, timeoutMs = 5000): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    stream.end(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
