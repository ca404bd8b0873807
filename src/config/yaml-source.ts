// Reads YAML definitions with the `yaml` package: one document, YAML 1.2 core schema plus merge keys (<<),
// parse errors with their line, and guards against alias bombs ("billion laughs") and alias cycles.
import { isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, Pair } from 'yaml';
import type { PathProblem, PathSegment } from './problems.ts';
import { createLineIndex, type Position } from './source-position.ts';
import { MAX_NESTING } from './json-source.ts';

/**
 * At most this many alias nodes (*name). yaml resolves each alias by scanning every anchor and alias before
 * it, so this also bounds that quadratic cost; it is passed to yaml's own maxAliasCount check as well.
 */
export const MAX_ALIASES = 10_000;
/** Nodes the document may grow to once aliases are expanded: the larger of this and twice its written size. */
export const MIN_EXPANSION_BUDGET = 2_000_000;

export type YamlReadResult =
  | { ok: true; value: unknown; locate: (paths: readonly (readonly PathSegment[])[]) => Position[] }
  | { ok: false; problems: PathProblem[] };

type AnyNode = YamlNode | Pair | null | undefined;

const start = (node: AnyNode): number | undefined => (node && 'range' in node && node.range ? node.range[0] : undefined);

const isMergeKey = (key: unknown): boolean => isScalar(key) && typeof key.value === 'symbol';

function keyText(key: unknown): string | undefined {
  if (!isScalar(key) || key.value === null || typeof key.value === 'symbol') return undefined;
  return String(key.value);
}

/** The path of the innermost node whose source range holds `offset` (to give yaml's errors a path). */
function pathAt(doc: Document, offset: number): PathSegment[] {
  const path: PathSegment[] = [];
  let node: unknown = doc.contents;
  // A path is a hint for a person; past 64 levels it is no longer readable.
  for (let depth = 0; depth < 64; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const from = start(p.key as AnyNode);
        const to = (p.value as YamlNode | null)?.range?.[2] ?? (p.key as YamlNode | null)?.range?.[2];
        return from !== undefined && to !== undefined && from <= offset && offset < to;
      });
      const key = pair && keyText(pair.key);
      if (!pair || key === undefined) break;
      path.push(key);
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => {
        const range = (item as YamlNode | null)?.range;
        return range != null && range[0] <= offset && offset < range[2];
      });
      if (index < 0) break;
      path.push(index);
      node = node.items[index];
    } else {
      break;
    }
  }
  return path;
}

function yamlErrorMessage(code: string, message: string, path: readonly PathSegment[]): string {
  const last = path[path.length - 1];
  switch (code) {
    case 'DUPLICATE_KEY':
      return `duplicate key${typeof last === 'string' ? ` ${JSON.stringify(last)}` : ''}: a key may appear only once in a mapping`;
    case 'MULTIPLE_DOCS':
      return 'the file holds more than one YAML document (a "---" line): a definition is one document';
    default:
      // yaml reports its own stack overflow on absurd nesting as an error at the node.
      return /call stack/i.test(message) ? `nested more than ${MAX_NESTING} levels deep` : message;
  }
}

/** Structural checks yaml leaves to the application: keys, aliases, expansion size. */
function checkNodes(
  doc: Document,
  problems: PathProblem[],
  at: (offset: number | undefined) => Position | object,
  targets: Map<unknown, YamlNode>,
): void {
  const anchors = new Map<string, YamlNode>();
  const active = new Set<unknown>();
  const sizes = new Map<unknown, number>();
  const path: PathSegment[] = [];
  let aliases = 0;
  let written = 0;
  let biggest: { node: YamlNode; size: number } | undefined;
  const problem = (node: AnyNode, message: string, extra?: PathSegment): void => {
    problems.push({ path: extra === undefined ? [...path] : [...path, extra], message, ...at(start(node)) });
  };

  const walk = (node: unknown, depth: number): number => {
    if (depth > MAX_NESTING) {
      problems.push({ path: [], message: `nested more than ${MAX_NESTING} levels deep`, ...at(start(node as AnyNode)) });
      throw new RangeError('nesting');
    }
    if (isAlias(node)) {
      aliases++;
      const target = anchors.get(node.source);
      if (!target) {
        problem(node, `alias *${node.source} refers to no anchor (&${node.source}) defined before it`);
        return 1;
      }
      if (active.has(target)) {
        problem(node, `alias *${node.source} is inside the node it refers to, which would make it infinite`);
        return 1;
      }
      targets.set(node, target);
      const size = sizes.get(target) ?? 1;
      if (!biggest || size > biggest.size) biggest = { node, size };
      return size;
    }
    written++;
    const anchored = (node as { anchor?: string } | null)?.anchor;
    // The anchor is visible to aliases inside its own node (that would be a cycle) and to everything after.
    if (anchored) anchors.set(anchored, node as YamlNode);
    active.add(node);
    let size = 1;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isMergeKey(pair.key)) {
          size += walk(pair.value, depth + 1);
          continue;
        }
        const key = keyText(pair.key);
        if (key === undefined) {
          problem((pair.key as AnyNode) ?? node, 'a key must be a plain name (not empty, a list, a mapping or an alias)');
          continue;
        }
        // yaml compares keys by value, so `1:` and `"1":` both pass its check but are one key in the result.
        if (seen.has(key)) problem(pair.key as AnyNode, `duplicate key ${JSON.stringify(key)}: a key may appear only once in a mapping`, key);
        seen.add(key);
        path.push(key);
        size += pair.value == null ? 1 : walk(pair.value, depth + 1);
        path.pop();
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        path.push(index);
        size += item == null ? 1 : walk(item, depth + 1);
        path.pop();
      });
    }
    active.delete(node);
    if (anchored) sizes.set(node, size);
    return size;
  };

  let expanded: number;
  try {
    expanded = walk(doc.contents, 0);
  } catch (error) {
    if (error instanceof RangeError) return;
    throw error;
  }
  if (aliases > MAX_ALIASES) {
    problems.push({ path: [], message: `the document has ${aliases.toLocaleString('en-US')} aliases (*name); the limit is ${MAX_ALIASES.toLocaleString('en-US')}` });
  }
  const budget = Math.max(MIN_EXPANSION_BUDGET, 2 * written);
  if (expanded > budget && biggest) {
    problems.push({
      path: [],
      message:
        `aliases would expand the document from ${written.toLocaleString('en-US')} to ${expanded > 1e15 ? 'more than 10^15' : expanded.toLocaleString('en-US')} ` +
        `nodes (the limit is ${budget.toLocaleString('en-US')}): refused as an alias bomb ("billion laughs"); ` +
        `the largest expansion is *${(biggest.node as unknown as { source: string }).source}`,
      ...at(start(biggest.node)),
    });
  }
}

/** Finds the pair for `key` in a mapping, looking through merge keys (<<: *base) as YAML does. */
function findPair(targets: Map<unknown, YamlNode>, map: unknown, key: string, depth = 0): Pair | undefined {
  if (!isMap(map) || depth > 16) return undefined;
  let merged: Pair | undefined;
  for (const pair of map.items) {
    if (keyText(pair.key) === key) return pair;
    if (merged === undefined && isMergeKey(pair.key)) {
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        merged ??= findPair(targets, isAlias(source) ? targets.get(source) : source, key, depth + 1);
      }
    }
  }
  return merged;
}

export function readYaml(text: string): YamlReadResult {
  const lines = createLineIndex(text);
  const at = (offset: number | undefined): Position | object => (offset === undefined ? {} : lines.position(offset));
  let doc: Document;
  try {
    doc = parseDocument(text, {
      uniqueKeys: true,
      merge: true,
      prettyErrors: false,
      // yaml would otherwise print warnings on the process's stderr; they become problems here instead.
      logLevel: 'error',
    });
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, problems: [{ path: [], message: `nested more than ${MAX_NESTING} levels deep` }] };
    throw error;
  }

  const problems: PathProblem[] = [];
  let overflowed = false;
  for (const e of [...doc.errors, ...doc.warnings]) {
    const path = pathAt(doc, e.pos[0]);
    const message = yamlErrorMessage(e.code, e.message, path);
    const overflow = message.startsWith('nested more than');
    // One overflow shows up as one error per open node: report it once.
    if (overflow && overflowed) continue;
    overflowed ||= overflow;
    problems.push({ path: overflow ? [] : path, message, ...at(e.pos[0]) });
  }
  if (problems.length) return { ok: false, problems };

  // Alias → its anchored node, filled by checkNodes: yaml's own Alias.resolve rescans the whole document.
  const targets = new Map<unknown, YamlNode>();
  checkNodes(doc, problems, at, targets);
  if (problems.length) return { ok: false, problems };

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    // checkNodes refuses what yaml refuses, so this is a backstop (yaml's own alias-count guard included).
    return { ok: false, problems: [{ path: [], message: `cannot read the YAML document: ${(error as Error).message}` }] };
  }

  const locate = (paths: readonly (readonly PathSegment[])[]): Position[] =>
    paths.map((path) => {
      let node: unknown = doc.contents;
      let best = start(node as AnyNode) ?? 0;
      for (const segment of path) {
        if (isAlias(node)) node = targets.get(node);
        if (isMap(node)) {
          const pair = findPair(targets, node, String(segment));
          if (!pair) break;
          best = start(pair.key as AnyNode) ?? best;
          node = pair.value;
        } else if (isSeq(node) && typeof segment === 'number') {
          const item = node.items[segment];
          if (item == null) break;
          best = start(item as AnyNode) ?? best;
          node = item;
        } else {
          break;
        }
      }
      return lines.position(best);
    });
  return { ok: true, value, locate };
}
