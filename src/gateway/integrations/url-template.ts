// Compiles an http_proxy integration URL once per stage and template: stage variables substituted, the
// origin fixed, {param} placeholders filled per request with percent-encoded path parameters.
//
// Security: parameter values are decoded by the router, so each is re-encoded as ONE path segment
// ('/' becomes %2F); a greedy {proxy} keeps its '/' but has every piece encoded. A '.' or '..' piece
// is refused rather than encoded: %2E%2E is still a dot segment for WHATWG URL parsers (Node's
// `new URL(req.url, base)`), so no encoding of it is safe against every upstream.

export class UrlTemplateError extends Error {
  readonly code = 'URL_TEMPLATE';
}

export interface UrlTemplateOptions {
  /** Path parameters that are greedy in the route (`{name+}`); `proxy` and `{x+}` are always greedy. */
  readonly greedyParameters?: readonly string[];
}

export interface CompiledUrlTemplate {
  /** 'http://host:port' (default port omitted), the key of the upstream pool. */
  readonly origin: string;
  /** The template after stage-variable substitution, for logs and errors. */
  readonly template: string;
  /** Names of the path parameters the template uses. */
  readonly parameters: readonly string[];
  /**
   * Path and query for one request: the template's query (if any) then the client's raw query.
   * undefined when a parameter value would be a dot segment (or is not encodable).
   */
  path(pathParameters: Readonly<Record<string, string>>, rawQuery: string): string | undefined;
  /** origin + path(...). */
  url(pathParameters: Readonly<Record<string, string>>, rawQuery: string): string | undefined;
}

const STAGE_VARIABLE = /\$\{stageVariables\.([A-Za-z0-9_]+)\}/g;
const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)(\+)?\}/g;
const URL_PARTS = /^(https?):\/\/([^/?#]*)([^#]*)/i;
/** Literal template text must be printable ASCII without spaces (undici refuses the rest). */
const BAD_LITERAL = /[^\x21-\x7e]|[{}]/;

const SEGMENT = 0;
const GREEDY = 1;
const QUERY = 2;
type Kind = typeof SEGMENT | typeof GREEDY | typeof QUERY;

/**
 * Compiled templates are immutable and depend only on the substituted text and the greedy parameters, so
 * routes of one stage that proxy to the same URL template share one (10,000 routes to
 * `${stageVariables.up}/{id}` compile it once). Keyed by the stage-variables object: a stage's cache goes
 * with its snapshot.
 */
const shared = new WeakMap<object, Map<string, CompiledUrlTemplate>>();

export function compileUrlTemplate(
  template: string,
  stageVariables: Readonly<Record<string, string>>,
  options: UrlTemplateOptions = {},
): CompiledUrlTemplate {
  const substituted = template.replace(STAGE_VARIABLE, (_, name: string) => {
    const value = Object.hasOwn(stageVariables, name) ? stageVariables[name] : undefined;
    if (value === undefined) throw new UrlTemplateError(`stage variable "${name}" is not defined in this stage`);
    return value;
  });
  if (substituted.includes('${')) throw new UrlTemplateError(`unsupported substitution in "${substituted}"`);

  let cache = shared.get(stageVariables);
  if (cache === undefined) shared.set(stageVariables, (cache = new Map()));
  const key = JSON.stringify([substituted, options.greedyParameters ?? []]);
  let compiled = cache.get(key);
  if (compiled === undefined) cache.set(key, (compiled = compile(substituted, options)));
  return compiled;
}

function compile(substituted: string, options: UrlTemplateOptions): CompiledUrlTemplate {

  const m = URL_PARTS.exec(substituted);
  if (!m) throw new UrlTemplateError(`"${substituted}" is not an absolute http:// or https:// URL`);
  const [, scheme, authority] = m;
  if (authority === '' || /[{}@\s]/.test(authority)) {
    throw new UrlTemplateError(`"${substituted}" has no usable host (placeholders and credentials are not allowed there)`);
  }
  let origin: string;
  try {
    origin = new URL(`${scheme.toLowerCase()}://${authority}`).origin;
  } catch {
    throw new UrlTemplateError(`"${substituted}" has an invalid host`);
  }

  let rest = m[3];
  if (rest === '' || rest[0] === '?') rest = `/${rest}`;
  const q = rest.indexOf('?');
  let hasQuery = q !== -1;
  // A bare '?' or trailing '&' must not produce '?&' or '&&' when the client's query is appended.
  let joiner = '&';
  if (hasQuery && q === rest.length - 1) {
    rest = rest.slice(0, -1);
    hasQuery = false;
  } else if (hasQuery && rest.endsWith('&')) {
    joiner = '';
  }

  const greedy = new Set(options.greedyParameters ?? []);
  greedy.add('proxy');
  const literalList: string[] = [];
  const nameList: string[] = [];
  const kindList: Kind[] = [];
  let last = 0;
  for (const p of rest.matchAll(PLACEHOLDER)) {
    literalList.push(checkLiteral(rest.slice(last, p.index), substituted));
    nameList.push(p[1]);
    kindList.push(hasQuery && p.index > q ? QUERY : p[2] === '+' || greedy.has(p[1]) ? GREEDY : SEGMENT);
    last = p.index + p[0].length;
  }
  literalList.push(checkLiteral(rest.slice(last), substituted));

  // Exact-size copies: arrays grown by push keep spare capacity (about 150 bytes each).
  const literals = literalList.slice();
  const names = nameList.slice();
  const kinds = kindList.slice();
  const n = names.length;
  const head = literals[0];

  function path(params: Readonly<Record<string, string>>, rawQuery: string): string | undefined {
    let out = head;
    for (let i = 0; i < n; i++) {
      const raw = params[names[i]];
      const value = typeof raw === 'string' ? raw : ''; // never an inherited Object.prototype member
      const kind = kinds[i];
      const enc = kind === SEGMENT ? encodeSegment(value) : kind === GREEDY ? encodeGreedy(value) : encodeQuery(value);
      if (enc === undefined) return undefined;
      out += enc + literals[i + 1];
    }
    if (rawQuery === '') return joiner === '' ? out.slice(0, -1) : out;
    return out + (hasQuery ? joiner : '?') + rawQuery;
  }

  return Object.freeze({
    origin,
    template: substituted,
    parameters: Object.freeze([...new Set(names)]),
    path,
    url(params: Readonly<Record<string, string>>, rawQuery: string) {
      const p = path(params, rawQuery);
      return p === undefined ? undefined : origin + p;
    },
  });
}

function checkLiteral(text: string, template: string): string {
  if (BAD_LITERAL.test(text)) {
    throw new UrlTemplateError(`"${template}": "${text}" must be printable ASCII, with braces only around {param}`);
  }
  return text;
}

function encodeSegment(value: string): string | undefined {
  if (value === '.' || value === '..') return undefined;
  try {
    return encodeURIComponent(value);
  } catch {
    return undefined; // lone surrogate
  }
}

function encodeGreedy(value: string): string | undefined {
  if (value.indexOf('/') === -1) return encodeSegment(value);
  const pieces = value.split('/');
  for (let i = 0; i < pieces.length; i++) {
    const enc = encodeSegment(pieces[i]);
    if (enc === undefined) return undefined;
    pieces[i] = enc;
  }
  return pieces.join('/');
}

function encodeQuery(value: string): string | undefined {
  try {
    return encodeURIComponent(value);
  } catch {
    return undefined;
  }
}
