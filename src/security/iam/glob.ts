// IAM wildcard matching (`*` = any run of characters, `?` = exactly one) without regular expressions:
// patterns compile once into exact/prefix/suffix checks or star-separated segments matched leftmost-first.

/** One piece between two stars. `anyAt` marks `?` positions (null when the piece has none). */
export interface GlobSegment {
  readonly text: string;
  readonly anyAt: Uint8Array | null;
}

/** A glob as pieces separated by stars: segs[0] * segs[1] * ... * segs[n]; n = 0 means no star at all. */
export interface GlobPattern {
  readonly segs: readonly GlobSegment[];
}

/** A token stream: literal text (wildcard characters inside it are literal), a star or a question mark. */
export type GlobToken = { readonly lit: string } | '*' | '?';

/** Matches `s.slice(start)` as a whole. */
export type GlobMatcher = (s: string, start: number) => boolean;

/** Splits pattern text where `*` and `?` are wildcards into tokens. */
export function tokenizeGlobText(text: string): GlobToken[] {
  const out: GlobToken[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '*' || c === '?') {
      if (lit) { out.push({ lit }); lit = ''; }
      out.push(c);
    } else {
      lit += c;
    }
  }
  if (lit) out.push({ lit });
  return out;
}

/** Builds the star-separated form; `?` stays inside a segment as a one-character hole. */
export function globFromTokens(tokens: readonly GlobToken[]): GlobPattern {
  const segs: GlobSegment[] = [];
  let text = '';
  let holes: number[] = [];
  const flush = () => {
    let anyAt: Uint8Array | null = null;
    if (holes.length) {
      anyAt = new Uint8Array(text.length);
      for (const h of holes) anyAt[h] = 1;
    }
    segs.push({ text, anyAt });
    text = '';
    holes = [];
  };
  for (const t of tokens) {
    if (t === '*') flush();
    else if (t === '?') { holes.push(text.length); text += '?'; }
    else text += t.lit;
  }
  flush();
  return { segs };
}

/**
 * `s.startsWith(text, pos)`, but fast: V8's startsWith compares character by character through a generic
 * path (~75 ns for a 44-character ARN prefix), while slice + === is a memcmp (~5 ns).
 */
export function startsAt(s: string, text: string, pos: number): boolean {
  const end = pos + text.length;
  return end <= s.length && (text.length === 0 || s.slice(pos, end) === text);
}

function segmentAt(seg: GlobSegment, s: string, pos: number): boolean {
  const { text, anyAt } = seg;
  if (anyAt === null) return startsAt(s, text, pos);
  if (pos + text.length > s.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (anyAt[i] === 0 && s.charCodeAt(pos + i) !== text.charCodeAt(i)) return false;
  }
  return true;
}

/** Leftmost position >= from where seg fits entirely before `limit`, or -1. */
function findSegment(seg: GlobSegment, s: string, from: number, limit: number): number {
  const len = seg.text.length;
  if (seg.anyAt === null) {
    const at = s.indexOf(seg.text, from);
    return at !== -1 && at + len <= limit ? at : -1;
  }
  for (let p = from; p + len <= limit; p++) if (segmentAt(seg, s, p)) return p;
  return -1;
}

/**
 * Generic match. Leftmost-first placement of the middle segments is optimal for patterns made only of `*`
 * and `?` (a later placement can never leave more room), so no backtracking is needed.
 */
export function matchGlob(g: GlobPattern, s: string, start: number): boolean {
  const segs = g.segs;
  const n = segs.length - 1;
  const first = segs[0]!;
  if (n === 0) return s.length - start === first.text.length && segmentAt(first, s, start);
  const last = segs[n]!;
  const end = s.length - last.text.length;
  if (end < start + first.text.length) return false;
  if (!segmentAt(first, s, start) || !segmentAt(last, s, end)) return false;
  let pos = start + first.text.length;
  for (let i = 1; i < n; i++) {
    const seg = segs[i]!;
    if (seg.text.length === 0) continue;
    const at = findSegment(seg, s, pos, end);
    if (at === -1) return false;
    pos = at + seg.text.length;
  }
  return true;
}

/** Compiles to the cheapest closure for the pattern's shape (exact, any, prefix, suffix, general). */
export function compileGlob(g: GlobPattern): GlobMatcher {
  const segs = g.segs;
  const plain = segs.every((x) => x.anyAt === null);
  if (segs.length === 1) {
    const text = segs[0]!.text;
    if (plain) return (s, start) => (start === 0 ? s === text : s.length - start === text.length && startsAt(s, text, start));
    return (s, start) => matchGlob(g, s, start);
  }
  if (plain && segs.length === 2) {
    const a = segs[0]!.text;
    const b = segs[1]!.text;
    if (a === '' && b === '') return () => true;
    if (b === '') return (s, start) => startsAt(s, a, start);
    if (a === '') return (s, start) => s.length - start >= b.length && s.endsWith(b);
    const min = a.length + b.length;
    return (s, start) => s.length - start >= min && startsAt(s, a, start) && s.endsWith(b);
  }
  if (segs.every((x) => x.text === '')) return () => true;
  return (s, start) => matchGlob(g, s, start);
}

/** Convenience: compile pattern text where `*` and `?` are wildcards. */
export function compileGlobText(text: string): GlobMatcher {
  return compileGlob(globFromTokens(tokenizeGlobText(text)));
}

export function hasWildcard(text: string): boolean {
  return text.includes('*') || text.includes('?');
}
