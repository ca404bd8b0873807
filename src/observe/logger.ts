// The application logger (pino, JSON lines, non-blocking) that every component logs through, with the
// redaction that keeps credentials out of logs (STYLE.md 9). Access logs are separate: access-log.ts.
import type { IncomingMessage } from 'node:http';
import pino from 'pino';
import { closeSonic, drainSonic, isSonic, isStreamDestination, openSonic, reportOnce, withTimeout, type LogDestination } from './destination.ts';

export type Logger = pino.Logger;
export type LogLevel = pino.LevelWithSilent;

export const LOG_LEVELS: readonly LogLevel[] = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Paths whose values are replaced by "[REDACTED]". `*.x` matches x one level below the top; the
 * top-level names are listed too. `*.value` covers API key objects ({ id, value }) shown once at creation.
 */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-amz-security-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'token',
  'secret',
  'password',
  'secretAccessKey',
  '*.token',
  '*.secret',
  '*.password',
  '*.secretAccessKey',
  '*.value',
]);

export const REDACTED = '[REDACTED]';

export interface LoggerOptions {
  /** A LogLevel; a string (from an environment variable, say) is checked and refused with the valid names. */
  readonly level?: LogLevel | (string & {});
  /**
   * Default stderr, leaving stdout to the access log (as nginx's images do): two non-blocking writers
   * sharing one pipe could interleave inside lines once a batch passes PIPE_BUF (4 KiB).
   */
  readonly destination?: LogDestination;
  /** Fields on every line (pid and hostname by default). */
  readonly base?: Record<string, unknown>;
  /**
   * Bytes buffered at most when stdout/file is slower than the logging; past it lines are dropped
   * rather than let memory grow (a stuck log pipe must not take the gateway down).
   */
  readonly maxBufferBytes?: number;
}

export function createLogger({
  level = 'info',
  destination = 'stderr',
  base,
  maxBufferBytes = 16 * 1024 * 1024,
}: LoggerOptions = {}): Logger {
  if (!isLogLevel(level)) throw new RangeError(`unknown log level "${level}" (use one of ${LOG_LEVELS.join(', ')})`);
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, req: serializeRequest },
  };
  if (base !== undefined) options.base = base;
  // minLength 0: application lines go out on the next tick (they are rare and wanted promptly);
  // pino flushes synchronously on process exit.
  if (isStreamDestination(destination)) return pino(options, destination.stream);
  const sonic = openSonic(destination, { minLength: 0, maxLength: maxBufferBytes, periodicFlush: 0 });
  // A failing log destination (disk full, unopenable file) must not crash the gateway.
  sonic.on('error', reportOnce('application log destination'));
  return pino(options, sonic);
}

/** A logger whose lines say which component wrote them: `componentLogger(log, 'admin')`. */
export function componentLogger(parent: Logger, component: string, fields: Record<string, unknown> = {}): Logger {
  return parent.child({ component, ...fields });
}

const streamOf = (logger: Logger): unknown => (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];

/** Resolves true once everything logged so far was written (false if not within timeoutMs). */
export function flushLogger(logger: Logger, timeoutMs = 5000): Promise<boolean> {
  const stream = streamOf(logger);
  if (isSonic(stream)) return withTimeout(drainSonic(stream), timeoutMs);
  return withTimeout(new Promise<void>((resolve) => logger.flush(() => resolve())), timeoutMs);
}

/** For shutdown: writes what is buffered and closes a file destination (stdout stays open). */
export function closeLogger(logger: Logger, timeoutMs = 5000): Promise<boolean> {
  const stream = streamOf(logger);
  return isSonic(stream) ? closeSonic(stream, timeoutMs) : flushLogger(logger, timeoutMs);
}

/**
 * A request as logs should see it: no query string (it can carry credentials, such as a presigned
 * SigV4 URL's X-Amz-Security-Token) and headers subject to REDACT_PATHS.
 */
function serializeRequest(req: IncomingMessage | Record<string, unknown>): Record<string, unknown> {
  if (!req || typeof req !== 'object' || !('headers' in req) || !('method' in req)) return req as Record<string, unknown>;
  const r = req as IncomingMessage;
  const url = r.url ?? '';
  const q = url.indexOf('?');
  return {
    method: r.method,
    path: q === -1 ? url : url.slice(0, q),
    headers: { ...r.headers },
    remoteAddress: r.socket?.remoteAddress,
  };
}
