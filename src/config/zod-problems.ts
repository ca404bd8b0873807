// Turns zod's issues into problems a person can act on: what was expected, what was found, the allowed
// values, and "did you mean" for unknown keys (the known keys come from the schema at the issue's path).
import { z } from 'zod';
import { RESPONSE_TYPES, type ResponseType } from '../core/gateway-responses.ts';
import { describeKind, describeValue, didYouMean, listOf } from './problems.ts';
import type { PathProblem, PathSegment } from './problems.ts';

/**
 * Passed as the per-parse error map: zod then keeps a schema's own message (a regex's "stage names are
 * letters, digits, _ and -") and marks every other issue with this, which is rewritten here with the input.
 */
export const DEFAULT_MESSAGE = '\u0000default';

type Issue = z.core.$ZodIssue;

// The parts of zod 4's schema definitions this file walks (z.core.$ZodTypeDef is a wide union).
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  element?: Schema;
  keyType?: Schema;
  valueType?: Schema;
  innerType?: Schema;
  in?: Schema;
  options?: Schema[];
  discriminator?: string;
  entries?: Record<string, string | number>;
  values?: unknown[];
  getter?: () => Schema;
}
interface Schema {
  _zod: { def: Def };
}
const defOf = (schema: Schema): Def => schema._zod.def;

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional', 'catch']);

function isRecordLike(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function childValue(value: unknown, segment: PathSegment): unknown {
  if (Array.isArray(value) && typeof segment === 'number') return value[segment];
  if (isRecordLike(value) && Object.hasOwn(value, segment)) return value[segment];
  return undefined;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) value = childValue(value, segment);
  return value;
}

/** Strips wrappers and picks the member of a discriminated union that the data names. */
function unwrap(schema: Schema | undefined, data: unknown): Schema | undefined {
  for (let guard = 0; schema && guard < 32; guard++) {
    const def = defOf(schema);
    if (WRAPPERS.has(def.type)) schema = def.innerType;
    else if (def.type === 'pipe') schema = def.in;
    else if (def.type === 'lazy' && def.getter) schema = def.getter();
    else if (def.type === 'union' && def.discriminator && isRecordLike(data)) {
      const tag = data[def.discriminator];
      schema = def.options?.find((option) => {
        const field = unwrap(option, undefined);
        const fieldDef = field && defOf(field).shape?.[def.discriminator!];
        return fieldDef !== undefined && (defOf(fieldDef).values ?? []).includes(tag);
      });
    } else return schema;
  }
  return schema;
}

function schemaAt(root: Schema, path: readonly PathSegment[], data: unknown): Schema | undefined {
  let schema: Schema | undefined = root;
  let value = data;
  for (const segment of path) {
    schema = unwrap(schema, value);
    if (!schema) return undefined;
    const def = defOf(schema);
    if (def.type === 'object') schema = def.shape?.[String(segment)];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return undefined;
    value = childValue(value, segment);
  }
  return unwrap(schema, value);
}

/** Keys a mapping may have at this point: an object's fields, or an enum-keyed record's keys. */
function knownKeys(schema: Schema | undefined): string[] {
  if (!schema) return [];
  const def = defOf(schema);
  if (def.type === 'object') return Object.keys(def.shape ?? {});
  if (def.type === 'record') {
    const keyDef = def.keyType && unwrap(def.keyType, undefined);
    const entries = keyDef && defOf(keyDef).entries;
    if (entries) return Object.values(entries).map(String);
  }
  return [];
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  null: 'null',
};
const expectedText = (expected: string): string => EXPECTED[expected] ?? expected;

const showAllowed = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
const fmt = (n: number | bigint): string => (typeof n === 'bigint' ? n.toString() : n.toLocaleString('en-US'));

function fallbackMessage(issue: Issue): string {
  const made = z.locales.en().localeError(issue as never);
  const text = typeof made === 'string' ? made : made?.message;
  return text ?? `is not valid (${issue.code})`;
}

function rangeMessage(issue: Issue & { code: 'too_big' | 'too_small' }, found: unknown): string {
  const big = issue.code === 'too_big';
  const limit = big ? (issue as { maximum: number | bigint }).maximum : (issue as { minimum: number | bigint }).minimum;
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'number':
    case 'int':
    case 'bigint': {
      const bound = inclusive ? (big ? 'at most' : 'at least') : big ? 'less than' : 'greater than';
      return `must be ${bound} ${fmt(limit)} (found ${describeValue(found)})`;
    }
    case 'string': {
      const length = typeof found === 'string' ? found.length : 0;
      if (!big && Number(limit) === 1) return 'must not be empty';
      return `must be ${big ? 'at most' : 'at least'} ${fmt(limit)} characters long (found ${fmt(length)})`;
    }
    case 'array':
    case 'set': {
      const size = Array.isArray(found) ? found.length : 0;
      return `must have ${big ? 'at most' : 'at least'} ${fmt(limit)} item${Number(limit) === 1 ? '' : 's'} (found ${fmt(size)})`;
    }
    default:
      return fallbackMessage(issue);
  }
}

function oneOf(found: unknown, allowed: readonly unknown[]): string {
  if (allowed.length === 1) return `expected ${JSON.stringify(allowed[0])}, found ${describeValue(found)}`;
  const names = allowed.map(showAllowed);
  const hint = typeof found === 'string' ? didYouMean(found, names) : '';
  return `${describeValue(found)} is not allowed; expected one of ${listOf(names)}${hint}`;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const type = RESPONSE_TYPES[key as ResponseType];
  if (type && !type.customizable && known.includes('THROTTLED')) {
    return `gateway response type ${JSON.stringify(key)} cannot be customised per API`;
  }
  return `unknown key ${JSON.stringify(key)}${didYouMean(key, known)}`;
}

/** One issue's message for the value found at its path (the issue path is already complete). */
function messageFor(issue: Issue, found: unknown, parent: unknown, last: PathSegment | undefined): string {
  const custom = issue.message !== DEFAULT_MESSAGE;
  switch (issue.code) {
    case 'invalid_type': {
      if (custom) return issue.message;
      if (found === undefined && isRecordLike(parent) && last !== undefined && !Object.hasOwn(parent, last)) {
        return `missing required key ${JSON.stringify(String(last))} (${expectedText(issue.expected)})`;
      }
      return `expected ${expectedText(issue.expected)}, found ${describeKind(found)}`;
    }
    case 'invalid_value':
      return custom ? issue.message : oneOf(found, issue.values);
    case 'invalid_format': {
      if (custom) return `${issue.message} (found ${describeValue(found)})`;
      if (issue.format === 'regex' && issue.pattern) return `${describeValue(found)} does not match the pattern ${issue.pattern}`;
      return `${describeValue(found)} is not a valid ${issue.format}`;
    }
    case 'too_big':
    case 'too_small':
      return custom ? `${issue.message} (found ${describeValue(found)})` : rangeMessage(issue, found);
    case 'invalid_union': {
      if (custom) return issue.message;
      if (issue.discriminator !== undefined && 'options' in issue && issue.options) {
        if (found === undefined && last !== undefined) {
          return `missing required key ${JSON.stringify(String(last))} (one of ${listOf(issue.options.map(showAllowed))})`;
        }
        return oneOf(found, issue.options);
      }
      // A plain union ("a string, a mapping or a list"): name the kinds when every branch failed on type.
      const firsts = issue.errors.map((branch) => branch[0]);
      if (firsts.length && firsts.every((b) => b?.code === 'invalid_type' && b.path.length === 0)) {
        const kinds = [...new Set(firsts.map((b) => expectedText((b as { expected: string }).expected)))];
        return `expected ${listOf(kinds)}, found ${describeKind(found)}`;
      }
      return `${describeValue(found)} does not match any accepted form`;
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      const why = !inner ? 'is not allowed' : inner.message !== DEFAULT_MESSAGE ? inner.message : messageFor(inner, last, undefined, undefined);
      return `key ${JSON.stringify(String(last))} is not valid: ${why}`;
    }
    case 'custom':
      return custom ? issue.message : 'is not valid';
    default:
      return custom ? issue.message : fallbackMessage(issue);
  }
}

/** Rewrites zod issues for `data` (the value that was parsed against `root`) as path problems. */
export function problemsFromIssues(issues: readonly Issue[], data: unknown, root: z.ZodType): PathProblem[] {
  const problems: PathProblem[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schemaAt(root as unknown as Schema, path, data));
      for (const key of issue.keys) problems.push({ path: [...path, key], message: unknownKeyMessage(key, known) });
      continue;
    }
    const parent = valueAt(data, path.slice(0, -1));
    const last = path[path.length - 1];
    const found = last === undefined ? data : childValue(parent, last);
    problems.push({ path, message: messageFor(issue, found, parent, last) });
  }
  return problems;
}
