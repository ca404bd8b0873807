// Problems found in an API definition: their shape, how paths and problem lists are written for a person,
// the error that carries them, and "did you mean" suggestions.

/** One thing wrong with a definition. line and column are 1-based and point into the source text. */
export interface DefinitionProblem {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** A path into the definition as data: object keys and array indexes. */
export type PathSegment = string | number;

/** A problem whose path is still structured, so its position in the source can be looked up. */
export interface PathProblem {
  path: PathSegment[];
  message: string;
  line?: number;
  column?: number;
}

// Keys that read well after a dot; anything else (route throttle keys such as "/pets/GET", header names with
// spaces) is written as a quoted index so the path stays unambiguous.
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Writes a path the way a person reads it: apis[0].routes[2].integration.url */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

export function toDefinitionProblem(problem: PathProblem): DefinitionProblem {
  const out: DefinitionProblem = { path: formatPath(problem.path), message: problem.message };
  if (problem.line !== undefined) {
    out.line = problem.line;
    out.column = problem.column ?? 1;
  }
  return out;
}

/** One line per problem: "pets.yaml:14:9 apis[0].routes[2].integration.url: not a valid URL". */
export function formatProblems(problems: readonly DefinitionProblem[], fileName?: string): string {
  return problems
    .map((p) => {
      const where =
        p.line !== undefined
          ? `${fileName ? `${fileName}:` : ''}${p.line}:${p.column ?? 1}`
          : (fileName ?? '');
      const what = p.path ? `${p.path}: ${p.message}` : p.message;
      return where ? `${where} ${what}` : what;
    })
    .join('\n');
}

/** Thrown by callers that cannot go on with an invalid definition (serve --config, deploy). */
export class DefinitionError extends Error {
  readonly code = 'INVALID_DEFINITION';
  readonly problems: DefinitionProblem[];

  constructor(problems: DefinitionProblem[], fileName?: string) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid API definition${fileName ? ` ${fileName}` : ''} (${count}):\n${formatProblems(problems, fileName)}`);
    this.name = 'DefinitionError';
    this.problems = problems;
  }
}

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("metohd" is 1 from "method"). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prevPrev: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prevPrev[j - 2] + 1);
      row.push(d);
    }
    prevPrev = prev;
    prev = row;
  }
  return prev[b.length];
}

/**
 * The known word closest to `word`, when it is close enough to be a likely typo: same letters in another
 * case, or within 1 edit up to 5 characters, 2 up to 10, 3 beyond ("FETCH" is not a typo of "PATCH").
 */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const budget = word.length <= 5 ? 1 : word.length <= 10 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (candidate.toLowerCase() === lower) return candidate;
    // Cheap length filter first: the distance is at least the difference in length.
    if (Math.abs(candidate.length - word.length) > budget) continue;
    const d = editDistance(word, candidate);
    if (d <= budget && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** " (did you mean "x"?)" or "". */
export function didYouMean(word: string, known: Iterable<string>): string {
  const hint = closest(word, known);
  return hint === undefined ? '' : ` (did you mean ${JSON.stringify(hint)}?)`;
}

/** "a, b or c" */
export function listOf(items: readonly string[], conjunction = 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

/** A short, quoted rendering of a value found in the definition, for "found ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** The kind of a value, with its article: "a string", "a number (5)", "a list". */
export function describeKind(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string (${describeValue(value)})`;
  if (typeof value === 'number') return `a number (${value})`;
  if (typeof value === 'boolean') return `${value}`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}
