// Shared by the authorizer stages: condition keys for policies (ctx.extensions.conditionKeys) and headers
// set for the upstream from claims or authorizer context, with client-supplied copies removed first.
import type { RequestContext } from '../pipeline/context.ts';

export type ConditionKeys = Map<string, string | readonly string[]>;

/**
 * The request's extra policy condition keys: a Map of lower-cased key → value (`jwt:sub`, `jwt:scope`,
 * `cognito:groups`...), created by the first stage that adds one. The authorization stage reads it.
 */
export function conditionKeysOf(ctx: RequestContext): ConditionKeys {
  let keys = ctx.extensions.conditionKeys as ConditionKeys | undefined;
  if (keys === undefined) ctx.extensions.conditionKeys = keys = new Map();
  return keys;
}

export interface HeaderSetter {
  (ctx: RequestContext, get: (key: string) => unknown): void;
  /** Removes the client's copies of every configured header (run before authentication, whatever its outcome). */
  strip(ctx: RequestContext): void;
}

// A value that would split or corrupt the header block is not forwarded at all.
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Compiles `{ "X-User": "sub" }` into a setter; the upstream request is built from ctx.req.headers. */
export function claimHeaderSetter(mapping: Readonly<Record<string, string>>): HeaderSetter {
  const pairs = Object.entries(mapping).map(([h, k]) => [h.toLowerCase(), k] as const);
  const set = ((ctx, get) => {
    const headers = ctx.req.headers;
    for (const [h, k] of pairs) {
      const v = get(k);
      if (v === undefined || v === null) continue;
      const s = typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
      if (!UNSAFE.test(s)) headers[h] = s;
    }
  }) as HeaderSetter;
  set.strip = (ctx) => {
    const headers = ctx.req.headers;
    for (const [h] of pairs) if (h in headers) delete headers[h];
  };
  return set;
}
