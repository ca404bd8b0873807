// Reads JSON definitions: JSON.parse builds the value (70x faster than the yaml parser on 17 MB), and a small
// scanner adds what it lacks: positioned syntax errors, duplicate keys, and the line of any path a problem names.
import type { PathProblem, PathSegment } from './problems.ts';
import { createLineIndex, type Position } from './source-position.ts';

/** Deeper nesting is refused: no definition needs it, and it keeps the recursive scanner off the stack limit. */
export const MAX_NESTING = 512;

/** A set of paths whose positions are wanted, shared by prefix. */
class PathTrie {
  readonly children = new Map<PathSegment, PathTrie>();
  offset = -1;

  insert(path: readonly PathSegment[]): void {
    let node: PathTrie = this;
    for (const segment of path) {
      let next = node.children.get(segment);
      if (!next) node.children.set(segment, (next = new PathTrie()));
      node = next;
    }
  }

  /** The offset of the deepest node along `path` that was found in the text. */
  deepest(path: readonly PathSegment[]): number {
    let node: PathTrie | undefined = this;
    let best = this.offset;
    for (const segment of path) {
      node = node.children.get(segment);
      if (!node || node.offset < 0) break;
      best = node.offset;
    }
    return best;
  }
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9A-Fa-f]{4}$/;

function describeChar(text: string, offset: number): string {
  if (offset >= text.length) return 'end of input';
  const ch = String.fromCodePoint(text.codePointAt(offset)!);
  return /[\x00-\x20\x7f]/.test(ch) ? `character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : `"${ch}"`;
}

class Scanner {
  pos = 0;
  depth = 0;
  readonly path: PathSegment[] = [];
  readonly duplicates: Array<{ path: PathSegment[]; key: string; offset: number }> = [];

  constructor(readonly text: string) {}

  fail(message: string, offset = this.pos): never {
    throw new JsonSyntaxError(message, offset);
  }

  ws(): void {
    const { text } = this;
    let { pos } = this;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
    this.pos = pos;
  }

  document(wanted: PathTrie | undefined): void {
    this.ws();
    if (wanted) wanted.offset = this.pos;
    this.value(wanted);
    this.ws();
    if (this.pos < this.text.length) this.fail(`unexpected ${describeChar(this.text, this.pos)} after the end of the JSON value`);
  }

  value(node: PathTrie | undefined): void {
    this.ws();
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b) this.object(node);
    else if (c === 0x5b) this.array(node);
    else if (c === 0x22) this.string(false);
    else if (c === 0x74) this.literal('true');
    else if (c === 0x66) this.literal('false');
    else if (c === 0x6e) this.literal('null');
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) this.number();
    else this.fail(`unexpected ${describeChar(this.text, this.pos)}; expected a value`);
  }

  enter(): void {
    if (++this.depth > MAX_NESTING) this.fail(`nested more than ${MAX_NESTING} levels deep`);
  }

  object(node: PathTrie | undefined): void {
    this.enter();
    this.pos++;
    this.ws();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      this.depth--;
      return;
    }
    const keys = new Set<string>();
    for (;;) {
      this.ws();
      if (this.text.charCodeAt(this.pos) !== 0x22) {
        this.fail(`unexpected ${describeChar(this.text, this.pos)}; expected a key in double quotes`);
      }
      const keyOffset = this.pos;
      const key = this.string(true);
      if (keys.has(key)) this.duplicates.push({ path: [...this.path, key], key, offset: keyOffset });
      else keys.add(key);
      // JSON.parse keeps the last of duplicate keys, so the last one is the one problems are about.
      const child = node?.children.get(key);
      if (child) child.offset = keyOffset;
      this.ws();
      if (this.text.charCodeAt(this.pos) !== 0x3a) {
        this.fail(`unexpected ${describeChar(this.text, this.pos)}; expected ":" after the key ${JSON.stringify(key)}`);
      }
      this.pos++;
      this.path.push(key);
      this.value(child);
      this.path.pop();
      this.ws();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.ws();
        if (this.text.charCodeAt(this.pos) === 0x7d) this.fail('a "," before "}" (trailing commas are not JSON)');
      } else if (c === 0x7d) {
        this.pos++;
        break;
      } else {
        this.fail(`unexpected ${describeChar(this.text, this.pos)}; expected "," or "}" after a value`);
      }
    }
    this.depth--;
  }

  array(node: PathTrie | undefined): void {
    this.enter();
    this.pos++;
    this.ws();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      this.depth--;
      return;
    }
    for (let index = 0; ; index++) {
      this.ws();
      const child = node?.children.get(index);
      if (child) child.offset = this.pos;
      this.path.push(index);
      this.value(child);
      this.path.pop();
      this.ws();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.ws();
        if (this.text.charCodeAt(this.pos) === 0x5d) this.fail('a "," before "]" (trailing commas are not JSON)');
      } else if (c === 0x5d) {
        this.pos++;
        break;
      } else {
        this.fail(`unexpected ${describeChar(this.text, this.pos)}; expected "," or "]" after a value`);
      }
    }
    this.depth--;
  }

  /** Scans a string starting at its opening quote; decodes it only when asked (keys). */
  string(decode: boolean): string {
    const { text } = this;
    const open = this.pos;
    let pos = open + 1;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        const e = text.charCodeAt(pos + 1);
        if (e === 0x75) {
          if (!HEX4.test(text.slice(pos + 2, pos + 6))) this.fail('"\\u" must be followed by 4 hexadecimal digits', pos);
          pos += 6;
        } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          pos += 2;
        } else {
          this.fail(`invalid escape ${JSON.stringify(text.slice(pos, pos + 2))} in a string`, pos);
        }
      } else if (c >= 0x20) {
        pos++;
      } else if (Number.isNaN(c)) {
        this.fail('a string is not closed (missing ")', open);
      } else {
        this.fail('a control character (such as a line break) inside a string must be escaped', pos);
      }
    }
    this.pos = pos + 1;
    if (!decode) return '';
    return escaped ? (JSON.parse(text.slice(open, pos + 1)) as string) : text.slice(open + 1, pos);
  }

  number(): void {
    NUMBER.lastIndex = this.pos;
    if (!NUMBER.test(this.text)) this.fail(`invalid number`);
    this.pos = NUMBER.lastIndex;
  }

  literal(word: string): void {
    if (!this.text.startsWith(word, this.pos)) {
      const token = /^[A-Za-z0-9_]+/.exec(this.text.slice(this.pos, this.pos + 40))?.[0] ?? word[0];
      this.fail(`unexpected ${JSON.stringify(token)}; expected a value (strings need double quotes)`);
    }
    this.pos += word.length;
  }
}

export type JsonReadResult =
  | { ok: true; value: unknown; locate: (paths: readonly (readonly PathSegment[])[]) => Position[] }
  | { ok: false; problems: PathProblem[] };

/** Parses JSON text; any syntax error or duplicate key is a problem with its line and column. */
export function readJson(text: string): JsonReadResult {
  const lines = createLineIndex(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // JSON.parse gives no position on some inputs and an unfriendly message on most: rescan for both.
    try {
      new Scanner(text).document(undefined);
    } catch (scanError) {
      if (scanError instanceof JsonSyntaxError) {
        return { ok: false, problems: [{ path: [], message: `invalid JSON: ${scanError.message}`, ...lines.position(scanError.offset) }] };
      }
      throw scanError;
    }
    return { ok: false, problems: [{ path: [], message: `invalid JSON: ${(error as Error).message}` }] };
  }

  const scanner = new Scanner(text);
  try {
    scanner.document(undefined);
  } catch (scanError) {
    // Only the nesting limit can fail here: JSON.parse accepted the text.
    if (scanError instanceof JsonSyntaxError) {
      return { ok: false, problems: [{ path: [], message: scanError.message, ...lines.position(scanError.offset) }] };
    }
    throw scanError;
  }
  if (scanner.duplicates.length) {
    return {
      ok: false,
      problems: scanner.duplicates.map((d) => ({
        path: d.path,
        message: `duplicate key ${JSON.stringify(d.key)}: a key may appear only once in an object`,
        ...lines.position(d.offset),
      })),
    };
  }

  // Positions are looked up only when there are problems, in one more pass over the text for all of them.
  const locate = (paths: readonly (readonly PathSegment[])[]): Position[] => {
    const wanted = new PathTrie();
    for (const path of paths) wanted.insert(path);
    new Scanner(text).document(wanted);
    return paths.map((path) => lines.position(Math.max(0, wanted.deepest(path))));
  };
  return { ok: true, value, locate };
}
