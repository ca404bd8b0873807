// Access logs: formats (AWS's console presets or a custom line of $context variables) compiled once per
// stage, and a non-blocking writer that drops and counts lines rather than buffer without bound.
import type { Writable } from 'node:stream';
import type { RequestContext } from '../gateway/pipeline/context.ts';
import {
  compileVariable,
  ContextVariableError,
  PLAIN_VARIABLES,
  type CompileVariableOptions,
  type ContextGetter,
} from './context-variables.ts';
import { isStreamDestination, reportOnce, withTimeout, type LogDestination, type LogStream } from './destination.ts';
import { openBatchWriter } from './batch-writer.ts';

export type AccessLogFormatter = (ctx: RequestContext) => string;

export class AccessLogFormatError extends Error {
  readonly code = 'INVALID_ACCESS_LOG_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'AccessLogFormatError';
  }
}

/**
 * Fields of our `JSON` preset, in order: AWS's console JSON preset plus timing, routing, error and
 * API-key-id fields. Every value is a quoted string, as in AWS's preset, so pipelines built for AWS
 * parse it. docs/metrics.md (Access logs) lists them.
 */
export const JSON_PRESET_FIELDS: ReadonlyArray<readonly [field: string, variable: string]> = Object.freeze([
  ['requestId', 'requestId'],
  ['extendedRequestId', 'extendedRequestId'],
  ['ip', 'identity.sourceIp'],
  ['caller', 'identity.caller'],
  ['user', 'identity.user'],
  ['requestTime', 'requestTime'],
  ['requestTimeEpoch', 'requestTimeEpoch'],
  ['httpMethod', 'httpMethod'],
  ['resourcePath', 'resourcePath'],
  ['path', 'path'],
  ['status', 'status'],
  ['protocol', 'protocol'],
  ['responseLength', 'responseLength'],
  ['integrationLatency', 'integrationLatency'],
  ['responseLatency', 'responseLatency'],
  ['apiId', 'apiId'],
  ['stage', 'stage'],
  ['errorMessage', 'error.message'],
  ['errorResponseType', 'error.responseType'],
  ['apiKeyId', 'identity.apiKeyId'],
  // $context.identity.apiKey: on AWS the value; here the first 12 hex characters of its keyed hash, never the value.
  ['apiKeyHash', 'identity.apiKey'],
] as const);

/** AWS's console JSON preset, verbatim (usable as a custom format for byte-identical AWS records). */
export const AWS_JSON_FORMAT =
  '{ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId","ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", "status":"$context.status", "protocol":"$context.protocol", "responseLength":"$context.responseLength" }';

/** The presets a stage's `accessLog.format` may name. CLF, XML and CSV are AWS's console presets verbatim. */
export const ACCESS_LOG_PRESETS = Object.freeze({
  JSON: `{${JSON_PRESET_FIELDS.map(([f, v]) => `"${f}":"$context.${v}"`).join(',')}}`,
  CLF: '$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId $context.extendedRequestId',
  XML: '<request id="$context.requestId"> <extendedRequestId>$context.extendedRequestId</extendedRequestId> <ip>$context.identity.sourceIp</ip> <caller>$context.identity.caller</caller> <user>$context.identity.user</user> <requestTime>$context.requestTime</requestTime> <httpMethod>$context.httpMethod</httpMethod> <resourcePath>$context.resourcePath</resourcePath> <status>$context.status</status> <protocol>$context.protocol</protocol> <responseLength>$context.responseLength</responseLength> </request>',
  CSV: '$context.identity.sourceIp,$context.identity.caller,$context.identity.user,$context.requestTime,$context.httpMethod,$context.resourcePath,$context.protocol,$context.status,$context.responseLength,$context.requestId,$context.extendedRequestId',
});
export type AccessLogPreset = keyof typeof ACCESS_LOG_PRESETS;

/** AWS's limit on a format's size (HTTP APIs state 3 KB; we apply it to every custom format). */
export const MAX_FORMAT_LENGTH = 3072;

type Part = string | { readonly name: string };
/** How a value is escaped, decided per occurrence from the literal text before it. */
type Escape = 'json-string' | 'json-bare' | 'xml' | 'csv-quoted' | 'csv-bare' | 'text';

const PREFIX = '$context.';
const MISSING = '-';

/** Compiles a preset name or a custom single-line format. Throws AccessLogFormatError naming the problem. */
export function compileAccessLogFormat(format: string, options: CompileVariableOptions = {}): AccessLogFormatter {
  const presetName = format.trim().toUpperCase();
  const isPreset = Object.hasOwn(ACCESS_LOG_PRESETS, presetName);
  // YAML block scalars (`format: |`) end with a newline; we add our own, so a trailing one is dropped.
  const template = isPreset ? ACCESS_LOG_PRESETS[presetName as AccessLogPreset] : format.replace(/[\r\n]+$/, '');
  if (/[\r\n]/.test(template)) throw new AccessLogFormatError('the access log format must be a single line');
  if (template.length > MAX_FORMAT_LENGTH) {
    throw new AccessLogFormatError(`the access log format is longer than ${MAX_FORMAT_LENGTH} characters`);
  }

  const parts = parse(template);
  const names = parts.filter((p): p is { name: string } => typeof p !== 'string').map((p) => p.name);
  if (!names.includes('requestId') && !names.includes('extendedRequestId')) {
    throw new AccessLogFormatError('the access log format must include $context.requestId or $context.extendedRequestId');
  }

  const escapes = escapesFor(template, parts, isPreset && presetName === 'CSV');
  const pieces: Piece[] = [];
  let e = 0;
  for (const p of parts) {
    if (typeof p === 'string') {
      // Adjacent literals merged: a format is usually ~20 values with a literal between each.
      const last = pieces.length - 1;
      if (typeof pieces[last] === 'string') pieces[last] += p;
      else if (p !== '') pieces.push(p);
      continue;
    }
    let get: ContextGetter;
    try {
      get = compileVariable(p.name, options);
    } catch (err) {
      if (err instanceof ContextVariableError) throw new AccessLogFormatError(`${err.message} in the access log format`);
      throw err;
    }
    const escape = escapes[e++];
    pieces.push({ get, wrap: PLAIN_VARIABLES.has(p.name) ? (escape === 'json-bare' ? plainJsonBare : plainValue) : WRAPS[escape] });
  }
  const line = concatenate(pieces);
  if (!/[^\x00-\x7f]/.test(template)) return line;
  return (ctx) => {
    const text = line(ctx);
    lineIsAscii = false;
    return text;
  };
}

type Wrap = (v: string | number | null) => string;
/** A literal, or a variable with how its value is rendered. */
type Piece = string | { readonly get: ContextGetter; readonly wrap: Wrap };

/**
 * One function per format that concatenates the pieces. Generated so that every getter and wrapper is
 * called from a call site of its own, which V8 inlines (a loop over the pieces calls them all from one
 * site, about 100 instructions per call here). The generated source holds only JSON-quoted literals and
 * parameter names; where code generation is disabled (--disallow-code-generation-from-strings), a loop.
 */
function concatenate(pieces: readonly Piece[]): AccessLogFormatter {
  const params: string[] = [];
  const args: unknown[] = [];
  const terms = pieces.map((p) => {
    if (typeof p === 'string') return JSON.stringify(p);
    const i = args.length / 2;
    params.push(`g${i}`, `w${i}`);
    args.push(p.get, p.wrap);
    return `w${i}(g${i}(c))`;
  });
  try {
    const factory = new Function(...params, `return function accessLogLine(c) { return ${terms.join(' + ') || "''"}; };`);
    return factory(...args) as AccessLogFormatter;
  } catch {
    return (ctx) => {
      let out = '';
      for (let i = 0; i < pieces.length; i++) {
        const p = pieces[i];
        out += typeof p === 'string' ? p : p.wrap(p.get(ctx));
      }
      return out;
    };
  }
}

/** Splits a template into literals and `$context.` names (longest match on `[A-Za-z0-9_.]`). */
function parse(template: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar === -1) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, dollar);
    if (template.startsWith(PREFIX, dollar)) {
      let end = dollar + PREFIX.length;
      while (end < template.length && isNameChar(template.charCodeAt(end))) end++;
      // A name never ends with a dot: "… $context.status." is the variable then a full stop.
      while (end > dollar + PREFIX.length && template.charCodeAt(end - 1) === 46) end--;
      const name = template.slice(dollar + PREFIX.length, end);
      if (!name) throw new AccessLogFormatError(`"$context." without a variable name at offset ${dollar}`);
      parts.push(literal, { name });
      literal = '';
      i = end;
      continue;
    }
    const next = template.charCodeAt(dollar + 1);
    if (isLetter(next) || next === 123 /* { */) {
      const word = /^\$\{?[A-Za-z0-9_.]*/.exec(template.slice(dollar))![0];
      throw new AccessLogFormatError(`only $context variables may be used in an access log format (found "${word}")`);
    }
    literal += '$';
    i = dollar + 1;
  }
  parts.push(literal);
  return parts;
}

function isNameChar(c: number): boolean {
  return isLetter(c) || (c >= 48 && c <= 57) || c === 95 || c === 46;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Chooses each variable's escaping from the template's shape: JSON (starts with `{`): inside a string
 * the value is JSON-escaped, outside one it becomes a JSON literal; XML (starts with `<`): entities;
 * CSV (literals are only commas and quotes): RFC 4180 quoting; anything else (CLF and custom lines):
 * backslash-escaped quotes as in Apache's logs.
 */
function escapesFor(template: string, parts: readonly Part[], csvPreset: boolean): Escape[] {
  const head = template.trimStart()[0];
  const literals = parts.filter((p): p is string => typeof p === 'string').join('');
  const mode = head === '{' ? 'json' : head === '<' ? 'xml' : csvPreset || /^[,"]*,[,"]*$/.test(literals) ? 'csv' : 'text';
  const out: Escape[] = [];
  let inString = false;
  for (const p of parts) {
    if (typeof p !== 'string') {
      if (mode === 'json') out.push(inString ? 'json-string' : 'json-bare');
      else if (mode === 'csv') out.push(inString ? 'csv-quoted' : 'csv-bare');
      else out.push(mode === 'xml' ? 'xml' : 'text');
      continue;
    }
    for (let i = 0; i < p.length; i++) {
      const c = p[i];
      if (c === '"') inString = !inString;
      else if (c === '\\' && inString && mode === 'json') i++; // an escaped character inside a JSON string
    }
  }
  return out;
}

// Log injection: no value may start a new record or smuggle terminal escapes. C0 controls, DEL, NEL
// and the Unicode line/paragraph separators are removed in every format.
const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/g;
const XML_SPECIAL = /[&<>"']/g;
const XML_ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
// The precise tests: reached only for a value with a character from DEL up (see mayNeed).
const NEEDS_JSON = /[\u0000-\u001f\u007f\u0085\u2028\u2029"\\\ud800-\udfff]/;
const NEEDS_XML = /[\u0000-\u001f\u007f\u0085\u2028\u2029&<>"']/;
const NEEDS_CSV = /[\u0000-\u001f\u007f\u0085\u2028\u2029,"]/;
const NEEDS_TEXT = /[\u0000-\u001f\u007f\u0085\u2028\u2029"\\]/;

/**
 * The common path costs one pass over the value's characters: a table says which ASCII characters
 * need the escaper (controls, and the format's quote or separator characters), and anything from DEL
 * up goes to the escaper's own regular expression, which decides precisely. A regular-expression test
 * per value cost about 650 instructions here (callgrind), more than the scan of a short value.
 */
function asciiTable(special: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let c = 0; c < 32; c++) t[c] = 1;
  t[127] = 1;
  for (let i = 0; i < special.length; i++) t[special.charCodeAt(i)] = 1;
  return t;
}
const JSON_SPECIAL = asciiTable('"\\');
const XML_SPECIAL_ASCII = asciiTable('&<>"\'');
const CSV_SPECIAL = asciiTable(',"');
const TEXT_SPECIAL = asciiTable('"\\');

/** False once a value escaped since the last takeLineAscii() was not seen to be ASCII. */
let lineIsAscii = true;

function mayNeed(s: string, table: Uint8Array, precise: RegExp): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 127) {
      lineIsAscii = false;
      return precise.test(s);
    }
    if (table[c] === 1) {
      lineIsAscii = false; // not scanned further: maybe non-ASCII
      return true;
    }
  }
  return false;
}

/**
 * Whether every value escaped since the last call was ASCII (scanned whole with nothing to escape);
 * resets to true. The log phase asks right after formatting a record: an ASCII batch is written as
 * latin1, a copy, instead of being measured and encoded as UTF-8 (identical bytes for ASCII). Values
 * that are not scanned (ids, time, protocol, numbers) are ASCII by construction; a format whose own
 * text is not ASCII reports false for every record.
 */
export function takeLineAscii(): boolean {
  const ascii = lineIsAscii;
  lineIsAscii = true;
  return ascii;
}

// JSON.stringify also escapes lone surrogates, which would otherwise make the record invalid UTF-8.
const jsonInner = (s: string): string =>
  mayNeed(s, JSON_SPECIAL, NEEDS_JSON) ? JSON.stringify(s.replace(CONTROL, '')).slice(1, -1) : s;
const xmlText = (s: string): string =>
  mayNeed(s, XML_SPECIAL_ASCII, NEEDS_XML) ? s.replace(CONTROL, '').replace(XML_SPECIAL, (c) => XML_ENTITY[c]) : s;
const csvQuoted = (s: string): string => (mayNeed(s, CSV_SPECIAL, NEEDS_CSV) ? s.replace(CONTROL, '').replaceAll('"', '""') : s);
const csvField = (s: string): string => {
  if (!mayNeed(s, CSV_SPECIAL, NEEDS_CSV)) return s;
  const c = s.replace(CONTROL, '');
  return c.includes(',') || c.includes('"') ? `"${c.replaceAll('"', '""')}"` : c;
};
const textField = (s: string): string =>
  mayNeed(s, TEXT_SPECIAL, NEEDS_TEXT) ? s.replace(CONTROL, '').replace(/["\\]/g, '\\$&') : s;

// How a value is rendered: missing is `-` (AWS), numbers as digits, strings escaped for their place.
// One function per escape, so each generated call site sees one.
const plainValue: Wrap = (v) => (v === null ? MISSING : typeof v === 'number' ? String(v) : v);
// Outside quotes a hostile string could add keys, so it becomes a JSON string; missing is null (AWS
// would print a bare "-", which no JSON parser accepts).
const plainJsonBare: Wrap = (v) => (v === null ? 'null' : typeof v === 'number' ? String(v) : `"${v}"`);
const WRAPS: Record<Escape, Wrap> = {
  'json-bare': (v) => (v === null ? 'null' : typeof v === 'number' ? String(v) : `"${jsonInner(v)}"`),
  'json-string': (v) => (v === null ? MISSING : typeof v === 'number' ? String(v) : jsonInner(v)),
  xml: (v) => (v === null ? MISSING : typeof v === 'number' ? String(v) : xmlText(v)),
  'csv-quoted': (v) => (v === null ? MISSING : typeof v === 'number' ? String(v) : csvQuoted(v)),
  'csv-bare': (v) => (v === null ? MISSING : typeof v === 'number' ? String(v) : csvField(v)),
  text: (v) => (v === null ? MISSING : typeof v === 'number' ? String(v) : textField(v)),
};

// ---------------------------------------------------------------------------------------------------
// The writer

export interface AccessLoggerOptions {
  readonly destination?: LogDestination;
  /**
   * Bytes buffered at most while the destination is slower than the traffic. Past it lines are
   * dropped and counted: memory stays bounded and requests never wait on the log.
   */
  readonly maxBufferBytes?: number;
  /** Characters batched into one write (stdout/file; default 64 KiB, or a quarter of a smaller cap). */
  readonly minLength?: number;
  /** Buffered lines reach stdout/file at least this often (ms), however quiet the gateway. */
  readonly flushIntervalMs?: number;
  /** Called for every dropped line (wire to metrics.countAccessLogDrop). */
  readonly onDrop?: (count: number) => void;
  /** Called when the destination reports an error (disk full, closed pipe...). Default: first one to stderr. */
  readonly onError?: (err: Error) => void;
}

export interface AccessLogger {
  /**
   * Writes one record (a newline is appended). Never blocks and never throws. `ascii`: the caller knows
   * the line is ASCII (takeLineAscii()), so it may be written without UTF-8 encoding.
   */
  write(line: string, ascii?: boolean): void;
  /** Formats and writes the record of one finished request. */
  log(ctx: RequestContext, format: AccessLogFormatter): void;
  /** Lines dropped because the destination could not keep up, failed, or the logger was closed. */
  readonly droppedLines: number;
  /** Lines handed to write(), dropped or not. */
  readonly offeredLines: number;
  /** Writes what is buffered. Resolves false if the destination did not take it within timeoutMs. */
  flush(timeoutMs?: number): Promise<boolean>;
  /**
   * Flushes and releases the destination (for SIGTERM: `await accessLog.close()` before exiting).
   * A caller-owned stream is flushed but not ended. Later writes are dropped.
   */
  close(timeoutMs?: number): Promise<boolean>;
  /** Reopens a file destination (after logrotate moved it); a no-op for other destinations. */
  reopen(): void;
}

const MIB = 1024 * 1024;

export function createAccessLogger({
  destination = 'stdout',
  maxBufferBytes = 16 * MIB,
  minLength,
  flushIntervalMs = 1000,
  onDrop,
  onError = reportOnce('access log destination'),
}: AccessLoggerOptions = {}): AccessLogger {
  const batchChars = minLength ?? Math.min(64 * 1024, Math.floor(maxBufferBytes / 4));
  if (!(maxBufferBytes > batchChars)) throw new RangeError('maxBufferBytes must be larger than minLength');
  let dropped = 0;
  let offered = 0;
  let closed = false;
  let closing: Promise<boolean> | undefined;

  const drop = (): void => {
    dropped++;
    onDrop?.(1);
  };
  // pino's EPIPE filter re-emits every other error once more: report each error object once.
  let lastError: Error | undefined;
  const reportError = (err: Error): void => {
    if (err === lastError) return;
    lastError = err;
    onError(err);
  };

  let sink: Sink;
  if (isStreamDestination(destination)) {
    sink = streamSink(destination.stream, maxBufferBytes, drop, reportError);
  } else {
    sink = openBatchWriter(destination, {
      batchChars,
      maxBufferChars: maxBufferBytes,
      flushIntervalMs,
      onDrop: drop,
      onError: reportError,
    });
  }

  const logger: AccessLogger = {
    write(line, ascii = false) {
      offered++;
      if (closed) return drop();
      sink.write(`${line}\n`, ascii);
    },
    log(ctx, format) {
      takeLineAscii(); // whatever was escaped before this record is not part of it
      const line = format(ctx);
      logger.write(line, takeLineAscii());
    },
    get droppedLines() {
      return dropped;
    },
    get offeredLines() {
      return offered;
    },
    flush(timeoutMs = 5000) {
      return withTimeout(sink.flush(), timeoutMs);
    },
    close(timeoutMs = 5000) {
      if (!closing) {
        closed = true;
        closing = sink.close(timeoutMs);
      }
      return closing;
    },
    reopen() {
      if (!closed) sink.reopen();
    },
  };
  return logger;
}

interface Sink {
  write(data: string, ascii: boolean): void;
  flush(): Promise<void>;
  close(timeoutMs: number): Promise<boolean>;
  reopen(): void;
}

function streamSink(stream: LogStream, maxBufferBytes: number, drop: () => void, onError: (err: Error) => void): Sink {
  stream.on('error', onError);
  // node's Writable reports what it holds; a bare NodeJS.WritableStream may not (then it is unbounded here).
  const node = stream as Partial<Pick<Writable, 'destroyed' | 'writableLength'>>;
  const held = (): number => node.writableLength ?? 0;
  const dead = (): boolean => node.destroyed === true || !stream.writable;
  const flush = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (dead() || held() === 0) return resolve();
      // The callback of an empty write runs once everything before it was handled (or the stream died).
      stream.write('', () => resolve());
    });
  return {
    write(data) {
      // writableLength is what the stream holds and has not handed on: our bound on memory.
      if (dead() || held() + data.length > maxBufferBytes) return drop();
      stream.write(data);
    },
    flush,
    close: (timeoutMs) => withTimeout(flush(), timeoutMs),
    reopen() {},
  };
}
