// Loads an API definition from YAML or JSON text: size and encoding limits, parsing, the schema, then the
// semantic checks; every problem comes back with its path and, when it can be found, its line and column.
import { DefinitionSchema } from './schema.ts';
import type { Definition } from './schema.ts';
import { readJson } from './json-source.ts';
import { readYaml } from './yaml-source.ts';
import { checkDefinition } from './validate.ts';
import { DEFAULT_MESSAGE, problemsFromIssues } from './zod-problems.ts';
import { toDefinitionProblem } from './problems.ts';
import type { DefinitionProblem, PathProblem, PathSegment } from './problems.ts';
import { createLineIndex } from './source-position.ts';

export { DefinitionError, formatProblems } from './problems.ts';
export type { DefinitionProblem } from './problems.ts';

export type LoadResult =
  | { ok: true; definition: Definition; format: 'yaml' | 'json' }
  | { ok: false; problems: DefinitionProblem[] };

export interface ParseOptions {
  /** Default: from fileName's extension (.json, .yaml, .yml), else JSON when the text starts with "{". */
  format?: 'yaml' | 'json';
  /** Used only to choose the format; callers put it in messages with formatProblems. */
  fileName?: string;
  /** Checked before parsing. Default 20 MiB. */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;
/** Problems reported at most; a definition broken everywhere would otherwise bury the first ones. */
export const MAX_PROBLEMS = 1_000;

const MiB = 1024 * 1024;

function formatBytes(bytes: number, exact: boolean): string {
  if (bytes >= MiB) return exact && bytes % MiB === 0 ? `${bytes / MiB} MB` : `${(bytes / MiB).toFixed(1)} MB`;
  if (bytes >= 1024) return exact && bytes % 1024 === 0 ? `${bytes / 1024} KB` : `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

function tooLarge(bytes: number, maxBytes: number): PathProblem {
  return { path: [], message: `the definition is ${formatBytes(bytes, false)}; the limit is ${formatBytes(maxBytes, true)}` };
}

/** Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlongs, no surrogates). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function decodeBytes(bytes: Uint8Array): string | PathProblem {
  try {
    // ignoreBOM false: a UTF-8 byte-order mark is dropped, as editors write one now and then.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const offset = Math.max(0, firstInvalidUtf8(bytes));
    const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    const hint = utf16 ? ' (it looks like UTF-16: save the file as UTF-8)' : '';
    return {
      path: [],
      message: `the definition is not valid UTF-8 text: byte 0x${bytes[offset].toString(16).padStart(2, '0')} at offset ${offset}${hint}`,
      line,
      column: offset - lineStart + 1,
    };
  }
}

/**
 * Own "__proto__" keys (JSON.parse and yaml both create them) would be dropped without a word when zod
 * copies a record: a stage or stage variable named "__proto__" would silently vanish. Refuse them instead.
 */
function findProtoKeys(value: unknown, path: PathSegment[], out: PathProblem[]): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'object' || item === null) continue;
      path.push(i);
      findProtoKeys(item, path, out);
      path.pop();
    }
  } else if (typeof value === 'object' && value !== null) {
    if (Object.hasOwn(value, '__proto__')) {
      out.push({ path: [...path, '__proto__'], message: 'the key "__proto__" is not allowed (JavaScript treats it as an object\'s prototype)' });
    }
    for (const key in value) {
      const child: unknown = (value as Record<string, unknown>)[key];
      if (typeof child !== 'object' || child === null) continue;
      path.push(key);
      findProtoKeys(child, path, out);
      path.pop();
    }
  }
}

function chooseFormat(text: string, options: ParseOptions): 'yaml' | 'json' {
  if (options.format) return options.format;
  const name = options.fileName?.toLowerCase() ?? '';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'yaml';
  return /^\s*\{/.test(text) ? 'json' : 'yaml';
}

function fail(problems: PathProblem[]): LoadResult {
  // Document order reads best; problems with no position (rare) go last, in the order found.
  const sorted = problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || (a.p.column ?? 0) - (b.p.column ?? 0) || a.i - b.i)
    .map(({ p }) => toDefinitionProblem(p));
  if (sorted.length > MAX_PROBLEMS) {
    const more = sorted.length - MAX_PROBLEMS;
    sorted.length = MAX_PROBLEMS;
    sorted.push({ path: '', message: `and ${more.toLocaleString('en-US')} more problems` });
  }
  return { ok: false, problems: sorted };
}

/**
 * A definition is kept for as long as its revision is installed. The strings the YAML and JSON readers return
 * are often slices of the source text (V8 keeps a string of 13 characters or more cut from a longer one as a
 * view of it), so the whole text would stay alive with them; and every route repeats the same values
 * ('GET', 'http_proxy', one URL template). Replaces, in place, each string with one flat copy per value.
 */
function compactStrings<T>(definition: T): T {
  const copies = new Map<string, string>();
  const compact = (value: unknown): unknown => {
    if (typeof value === 'string') {
      let copy = copies.get(value);
      if (copy === undefined) {
        copy = JSON.parse(JSON.stringify(value)) as string; // a new sequential string, not a slice
        copies.set(copy, copy);
      }
      return copy;
    }
    if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) value[i] = compact(value[i]);
      } else {
        const record = value as Record<string, unknown>;
        for (const key of Object.keys(record)) {
          if (key !== '__proto__') record[key] = compact(record[key]);
        }
      }
    }
    return value;
  };
  return compact(definition) as T;
}

/** Parses and validates a definition. Never throws for a bad definition: problems are the result. */
export function parseDefinition(source: string | Uint8Array, options: ParseOptions = {}): LoadResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;

  let text: string;
  if (typeof source === 'string') {
    const bytes = Buffer.byteLength(source, 'utf8');
    if (bytes > maxBytes) return fail([tooLarge(bytes, maxBytes)]);
    text = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  } else {
    if (source.byteLength > maxBytes) return fail([tooLarge(source.byteLength, maxBytes)]);
    const decoded = decodeBytes(source);
    if (typeof decoded !== 'string') return fail([decoded]);
    text = decoded;
  }

  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    return fail([
      { path: [], message: 'the definition contains a NUL character: it must be UTF-8 text', ...createLineIndex(text).position(nul) },
    ]);
  }

  const format = chooseFormat(text, options);
  const read = format === 'json' ? readJson(text) : readYaml(text);
  if (!read.ok) return fail(read.problems);

  const value = read.value;
  if (value === null || value === undefined) {
    return fail([{ path: [], message: 'the definition is empty: it needs at least an "apis" list', line: 1, column: 1 }]);
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    const found = Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    return fail([{ path: [], message: `the definition must be a mapping with an "apis" key (found ${found})`, line: 1, column: 1 }]);
  }

  const problems: PathProblem[] = [];
  findProtoKeys(value, [], problems);
  if (problems.length === 0) {
    const parsed = DefinitionSchema.safeParse(value, { error: () => DEFAULT_MESSAGE });
    if (!parsed.success) problems.push(...problemsFromIssues(parsed.error.issues, value, DefinitionSchema));
    else problems.push(...checkDefinition(parsed.data));
    if (parsed.success && problems.length === 0) return { ok: true, definition: compactStrings(parsed.data), format };
  }

  const positions = read.locate(problems.map((p) => p.path));
  problems.forEach((p, i) => {
    if (p.line === undefined) Object.assign(p, positions[i]);
  });
  return fail(problems);
}
