// The grammar of route path templates (/pets/{id}, /files/{proxy+}) and of API base paths, with messages a
// person can act on. The validator and the snapshot compiler share it; the router keeps its own lean parser.

export type TemplateSegment =
  | { readonly kind: 'static'; readonly text: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

export type TemplateResult =
  | { ok: true; segments: TemplateSegment[]; paramNames: string[] }
  | { ok: false; message: string };

// RFC 3986 pchar without pct-encoded: unreserved / sub-delims / ":" / "@". Percent-encoding is refused in
// templates so that a route has exactly one spelling; the router decodes requests before comparing.
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]+$/;
const PCHAR_ONE = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;
const PARAM_NAME = /^[A-Za-z0-9_]+$/;
const ALLOWED = `letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @`;

function badCharacter(segment: string): string {
  for (const ch of segment) {
    if (!PCHAR_ONE.test(ch)) {
      if (ch === '%') return `"%" is not allowed: write the character itself, without percent-encoding`;
      const shown =
        ch === ' ' ? 'a space' : /[\x00-\x1f\x7f]/.test(ch) ? `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : `"${ch}"`;
      return `segment ${JSON.stringify(segment)} contains ${shown}, which cannot appear in a path; use ${ALLOWED}`;
    }
  }
  return `segment ${JSON.stringify(segment)} is not valid`;
}

/** Parses a route path template. "/" is the root resource. */
export function parsePathTemplate(path: string): TemplateResult {
  if (!path.startsWith('/')) return { ok: false, message: `a route path starts with "/" (found ${JSON.stringify(path)})` };
  if (path === '/') return { ok: true, segments: [], paramNames: [] };
  if (path.endsWith('/')) {
    return {
      ok: false,
      message: `${JSON.stringify(path)} ends with "/": only the root path is "/" (AWS treats /pets and /pets/ as different resources; write /pets)`,
    };
  }
  const parts = path.slice(1).split('/');
  const segments: TemplateSegment[] = [];
  const paramNames: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part === '') return { ok: false, message: `${JSON.stringify(path)} has an empty segment ("//")` };
    if (part.includes('{') || part.includes('}')) {
      const m = /^\{([^{}]*)\}$/.exec(part);
      if (!m) {
        return { ok: false, message: `${JSON.stringify(part)}: a parameter must be a whole segment, like /{id}` };
      }
      const greedy = m[1].endsWith('+');
      const name = greedy ? m[1].slice(0, -1) : m[1];
      if (!PARAM_NAME.test(name)) {
        return { ok: false, message: `parameter ${JSON.stringify(part)}: a parameter name is letters, digits and _` };
      }
      // A name that would set an object's prototype when used as a key of the params object.
      if (name === '__proto__') return { ok: false, message: `parameter name "__proto__" is reserved` };
      if (greedy && i !== parts.length - 1) {
        return { ok: false, message: `${JSON.stringify(part)}: a greedy parameter must be the last segment` };
      }
      if (paramNames.includes(name)) {
        return { ok: false, message: `parameter ${JSON.stringify(name)} appears more than once in ${JSON.stringify(path)}` };
      }
      paramNames.push(name);
      segments.push(greedy ? { kind: 'greedy', name } : { kind: 'param', name });
      continue;
    }
    if (!PCHAR.test(part)) return { ok: false, message: badCharacter(part) };
    // Dot segments are removed by URL normalisation (RFC 3986 section 5.2.4), so no request could reach them.
    if (part === '.' || part === '..') {
      return { ok: false, message: `${JSON.stringify(path)} has a "${part}" segment, which no request can reach` };
    }
    segments.push({ kind: 'static', text: part });
  }
  return { ok: true, segments, paramNames };
}

/**
 * The template with parameter names erased ("/pets/{}", "/files/{+}"): two routes with the same shape and
 * method would match exactly the same requests.
 */
export function templateShape(segments: readonly TemplateSegment[]): string {
  if (segments.length === 0) return '/';
  let out = '';
  for (const s of segments) out += s.kind === 'static' ? `/${s.text}` : s.kind === 'param' ? '/{}' : '/{+}';
  return out;
}

/** Checks a base path: "/" or "/seg(/seg)*", no trailing slash, no parameters, no percent-encoding. */
export function checkBasePath(basePath: string): string | undefined {
  if (basePath === '/') return undefined;
  if (!basePath.startsWith('/')) return `a base path starts with "/" (found ${JSON.stringify(basePath)})`;
  if (basePath.endsWith('/')) return `${JSON.stringify(basePath)} ends with "/"; write it without the trailing slash`;
  for (const part of basePath.slice(1).split('/')) {
    if (part === '') return `${JSON.stringify(basePath)} has an empty segment ("//")`;
    if (part.includes('{') || part.includes('}')) return `a base path cannot contain parameters (found ${JSON.stringify(part)})`;
    if (part.includes('..') || part === '.') return `a base path cannot contain "." or ".." segments (found ${JSON.stringify(part)})`;
    if (!PCHAR.test(part)) return badCharacter(part);
  }
  return undefined;
}
