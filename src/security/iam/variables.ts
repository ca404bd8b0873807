// Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`) and the escapes `${*}`,
// `${?}`, `${$}`: parsed once into templates, resolved per request from the condition context.
import { type GlobPattern, type GlobToken, globFromTokens, tokenizeGlobText } from './glob.ts';
import type { ContextValue } from './types.ts';

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'escape'; readonly char: '*' | '?' | '$' }
  | { readonly kind: 'var'; readonly key: string; readonly lowerKey: string; readonly fallback: string | undefined };

export interface Template {
  readonly parts: readonly TemplatePart[];
  /** True when a `${key}` variable (not just an escape) occurs. */
  readonly hasVariables: boolean;
  /** True when `${...}` occurs at all (variables or escapes). */
  readonly hasDollarBraces: boolean;
}

// `${ key }` or `${ key, 'default' }`. Keys may contain tag-key characters (letters, digits, spaces, _.:/=+-@).
// Parsed without a backtracking regex: policy text is attacker-adjacent input (up to kilobytes).
const KEY_FORBIDDEN = /[,'{}$]/;
const DEFAULT = /^'([^']*)'$/;

function parseVariable(inner: string): { key: string; fallback: string | undefined } | undefined {
  const comma = inner.indexOf(',');
  const key = (comma === -1 ? inner : inner.slice(0, comma)).trim();
  if (key === '' || KEY_FORBIDDEN.test(key)) return undefined;
  if (comma === -1) return { key, fallback: undefined };
  const m = DEFAULT.exec(inner.slice(comma + 1).trim());
  return m ? { key, fallback: m[1] } : undefined;
}

/** Parses `${...}` pieces. Returns an error message for a malformed or unterminated variable. */
export function parseTemplate(text: string): Template | string {
  const parts: TemplatePart[] = [];
  let hasVariables = false;
  let hasDollarBraces = false;
  let i = 0;
  let lit = '';
  while (i < text.length) {
    const open = text.indexOf('${', i);
    if (open === -1) { lit += text.slice(i); break; }
    const close = text.indexOf('}', open + 2);
    if (close === -1) return `"${text}" has an unterminated policy variable: "\${" without a closing "}"`;
    lit += text.slice(i, open);
    const inner = text.slice(open + 2, close);
    hasDollarBraces = true;
    if (inner === '*' || inner === '?' || inner === '$') {
      if (lit) { parts.push({ kind: 'text', text: lit }); lit = ''; }
      parts.push({ kind: 'escape', char: inner });
    } else {
      const m = parseVariable(inner);
      if (!m) {
        return `"\${${inner}}" is not a valid policy variable: write \${key} or \${key, 'default'} ` +
          `(and \${*}, \${?}, \${$} for literal *, ?, $)`;
      }
      if (lit) { parts.push({ kind: 'text', text: lit }); lit = ''; }
      parts.push({ kind: 'var', key: m.key, lowerKey: m.key.toLowerCase(), fallback: m.fallback });
      hasVariables = true;
    }
    i = close + 1;
  }
  if (lit) parts.push({ kind: 'text', text: lit });
  return { parts, hasVariables, hasDollarBraces };
}

/**
 * The value a variable stands for, or undefined when it has none. A missing key, an empty string or a
 * multivalued key cannot be substituted; the default (if written) is used instead.
 */
export function variableValue(
  part: Extract<TemplatePart, { kind: 'var' }>,
  get: (lowerKey: string) => ContextValue | undefined,
): string | undefined {
  const v = get(part.lowerKey);
  if (typeof v === 'string' && v !== '') return v;
  return part.fallback !== undefined && part.fallback !== '' ? part.fallback : undefined;
}

/** Resolves to a literal string (wildcards in text parts stay as written); undefined if a variable has no value. */
export function resolveLiteral(t: Template, get: (lowerKey: string) => ContextValue | undefined): string | undefined {
  let out = '';
  for (const p of t.parts) {
    if (p.kind === 'text') out += p.text;
    else if (p.kind === 'escape') out += p.char;
    else {
      const v = variableValue(p, get);
      if (v === undefined) return undefined;
      out += v;
    }
  }
  return out;
}

/** Glob tokens where `*`/`?` in policy text are wildcards and escapes/variable values are literal. */
export function templateGlobTokens(t: Template, get?: (lowerKey: string) => ContextValue | undefined): GlobToken[] | undefined {
  const out: GlobToken[] = [];
  for (const p of t.parts) {
    if (p.kind === 'text') out.push(...tokenizeGlobText(p.text));
    else if (p.kind === 'escape') out.push({ lit: p.char });
    else {
      if (!get) throw new Error('templateGlobTokens: variables need a context');
      const v = variableValue(p, get);
      if (v === undefined) return undefined;
      out.push({ lit: v });
    }
  }
  return out;
}

/** Resolves a glob template per request; undefined when a variable has no value (the pattern matches nothing). */
export function resolveGlob(t: Template, get: (lowerKey: string) => ContextValue | undefined): GlobPattern | undefined {
  const tokens = templateGlobTokens(t, get);
  return tokens === undefined ? undefined : globFromTokens(tokens);
}
