// The route matcher on the request path: method + path template → value and path parameters, with Amazon
// API Gateway's precedence (static > {param} > {proxy+}, exact method > ANY). No dependencies.

export interface RouteMatch<T> {
  value: T;
  params: Record<string, string>;
}

export interface Router<T> {
  /** Adds a route; throws on an invalid template or a second route with the same method and shape. */
  add(method: string, template: string, value: T): void;
  /**
   * Finds the route for a raw (still percent-encoded) path without its query string. Returns undefined when
   * nothing matches; throws RouterDecodeError when a segment's percent-encoding is malformed (answer 400).
   */
  find(method: string, path: string): RouteMatch<T> | undefined;
  readonly size: number;
}

/** A request path segment is not valid percent-encoded UTF-8 (for example "%zz" or "%C3%28"). */
export class RouterDecodeError extends Error {
  readonly code = 'INVALID_PERCENT_ENCODING';

  constructor(readonly segment: string) {
    super(`malformed percent-encoding in path segment ${JSON.stringify(segment)}`);
    this.name = 'RouterDecodeError';
  }
}

interface Route<T> {
  readonly value: T;
  /** Names of the {param} and {proxy+} segments, in path order: captures are zipped with them. */
  readonly names: readonly string[];
}

interface Node<T> {
  /**
   * Static children. Most nodes have one (10,000 routes `/r{i}/{id}/items` make 10,000 `{id}` nodes with
   * only `items` below), so the first child is held in two fields and a Map is made only for a second one.
   */
  staticSegment: string | null;
  staticChild: Node<T> | null;
  statics: Map<string, Node<T>> | null;
  param: Node<T> | null;
  /** Routes ending in {name+} at this depth: they take one or more of the remaining segments. */
  greedy: Node<T> | null;
  /**
   * Method → route as [method, route, method, route, ...], exact size: a node has one method or a few, a
   * short scan is as fast as a hash lookup, and nothing here is looked up by property name (no "__proto__").
   */
  methods: ReadonlyArray<string | Route<T>> | null;
  any: Route<T> | null;
}

const newNode = <T>(): Node<T> => ({ staticSegment: null, staticChild: null, statics: null, param: null, greedy: null, methods: null, any: null });

const NO_NAMES: readonly string[] = Object.freeze([]);

const PARAM_NAME = /^[A-Za-z0-9_]+$/;

function methodRoute<T>(methods: ReadonlyArray<string | Route<T>> | null, method: string): Route<T> | undefined {
  if (methods !== null) {
    for (let i = 0; i < methods.length; i += 2) {
      if (methods[i] === method) return methods[i + 1] as Route<T>;
    }
  }
  return undefined;
}

function pick<T>(node: Node<T>, method: string): Route<T> | undefined {
  return methodRoute(node.methods, method) ?? node.any ?? undefined;
}

function staticChild<T>(node: Node<T>, segment: string): Node<T> | undefined {
  if (node.staticSegment === segment) return node.staticChild!;
  return node.statics === null ? undefined : node.statics.get(segment);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RouterDecodeError(segment);
  }
}

/**
 * Depth-first with static first, then the parameter, then the greedy parameter. Each trie node sits at one
 * depth, so a lookup visits every node at most once: backtracking never goes exponential.
 */
function match<T>(node: Node<T>, segments: string[], i: number, method: string, captures: string[]): Route<T> | undefined {
  if (i === segments.length) return pick(node, method);
  const segment = segments[i];
  if (node.staticChild !== null) {
    const child = staticChild(node, segment);
    if (child !== undefined) {
      const found = match(child, segments, i + 1, method, captures);
      if (found !== undefined) return found;
    }
  }
  // An empty segment ("//", or the "" after a trailing "/") is never a parameter value.
  if (segment === '') return undefined;
  if (node.param !== null) {
    captures.push(segment);
    const found = match(node.param, segments, i + 1, method, captures);
    if (found !== undefined) return found;
    captures.pop();
  }
  if (node.greedy !== null) {
    const found = pick(node.greedy, method);
    if (found !== undefined) {
      // Later empty segments are kept ("/files/dir/" → "dir/"): the upstream sees the path it was sent.
      captures.push(i === segments.length - 1 ? segment : segments.slice(i).join('/'));
      return found;
    }
  }
  return undefined;
}

/**
 * The segments after the leading "/" ("/" has none, "/a/" has "a" and ""). An indexOf loop: String#split
 * measured about three times slower on Node 20 for typical paths.
 */
function splitPath(path: string, decode: boolean): string[] {
  const segments: string[] = [];
  if (path.length === 1) return segments;
  let start = 1;
  for (;;) {
    const slash = path.indexOf('/', start);
    const segment = slash === -1 ? path.slice(start) : path.slice(start, slash);
    segments.push(decode && segment.indexOf('%') !== -1 ? decodeSegment(segment) : segment);
    if (slash === -1) return segments;
    start = slash + 1;
  }
}

export function createRouter<T>(): Router<T> {
  const root = newNode<T>();
  // Templates with no parameters, by their text: one hash lookup answers most requests to static routes.
  const exact = new Map<string, Node<T>>();
  let size = 0;
  // Routes with the same parameter names share one frozen list.
  const nameLists = new Map<string, readonly string[]>();

  function add(method: string, template: string, value: T): void {
    if (!template.startsWith('/')) throw new Error(`route path must start with "/": ${JSON.stringify(template)}`);
    const parts = template === '/' ? [] : template.slice(1).split('/');
    const names: string[] = [];
    let node = root;
    let isStatic = true;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (part === '') throw new Error(`route path has an empty segment: ${JSON.stringify(template)}`);
      if (part.startsWith('{') && part.endsWith('}')) {
        const greedy = part.endsWith('+}');
        const name = part.slice(1, greedy ? -2 : -1);
        if (!PARAM_NAME.test(name) || name === '__proto__') throw new Error(`invalid parameter ${part} in ${JSON.stringify(template)}`);
        if (names.includes(name)) throw new Error(`parameter {${name}} appears twice in ${JSON.stringify(template)}`);
        names.push(name);
        isStatic = false;
        if (greedy) {
          if (i !== parts.length - 1) throw new Error(`${part} must be the last segment of ${JSON.stringify(template)}`);
          node = node.greedy ??= newNode();
        } else {
          node = node.param ??= newNode();
        }
      } else {
        if (/[{}%]/.test(part)) throw new Error(`invalid segment ${JSON.stringify(part)} in ${JSON.stringify(template)}`);
        let child = staticChild(node, part);
        if (child === undefined) {
          child = newNode();
          if (node.staticChild === null) {
            node.staticSegment = part;
            node.staticChild = child;
          } else {
            node.statics ??= new Map();
            node.statics.set(part, child);
          }
        }
        node = child;
      }
    }
    let shared = NO_NAMES;
    if (names.length) {
      const key = names.join('/');
      shared = nameLists.get(key) ?? Object.freeze(names.slice());
      nameLists.set(key, shared);
    }
    const route: Route<T> = { value, names: shared };
    if (method === 'ANY') {
      if (node.any !== null) throw new Error(`duplicate route ANY ${template}`);
      node.any = route;
    } else {
      if (methodRoute(node.methods, method) !== undefined) throw new Error(`duplicate route ${method} ${template}`);
      node.methods = node.methods === null ? [method, route] : node.methods.concat(method, route);
    }
    if (isStatic) exact.set(template, node);
    size++;
  }

  function find(method: string, path: string): RouteMatch<T> | undefined {
    if (path.charCodeAt(0) !== 0x2f) return undefined;
    const encoded = path.indexOf('%') !== -1;
    if (!encoded) {
      const node = exact.get(path);
      if (node !== undefined) {
        const route = pick(node, method);
        // A static route that lacks this method falls through: a {param} sibling may have it.
        if (route !== undefined) return { value: route.value, params: {} };
      }
    }
    // Split first, decode after: "%2F" inside a segment never makes a new segment.
    const segments = splitPath(path, encoded);
    const captures: string[] = [];
    const route = match(root, segments, 0, method, captures);
    if (route === undefined) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < route.names.length; i++) params[route.names[i]] = captures[i];
    return { value: route.value, params };
  }

  return {
    add,
    find,
    get size() {
      return size;
    },
  };
}
