// A JWKS cache that survives real identity providers (peer-gateways section 4.4): TTL with background
// refresh, an unknown kid refetches at most once at a time and once per cooldown, the last good key set
// keeps serving while the provider is down, and every fetch is bounded in size and time.
import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { Clock } from '../../core/clock.ts';

export interface JwksCacheOptions {
  /** Resolves the JWKS URL (fixed, or found by OIDC discovery); called on each fetch attempt until it succeeds. */
  readonly resolveUrl: (fetchJson: FetchJson) => Promise<string>;
  readonly clock: Clock;
  readonly ttlMs: number;
  readonly cooldownMs: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  /** Called once per fetch attempt when it ends: a key set was loaded (`ok`), or not (`error`). For metrics. */
  readonly onRefresh?: (result: 'ok' | 'error') => void;
}

export type FetchJson = (url: string) => Promise<unknown>;

/** Why no key could be produced. `unavailable`: the provider failed and no key set was ever loaded. */
export type KeyLookup =
  | { readonly ok: true; readonly key: CryptoKey | Uint8Array }
  | { readonly ok: false; readonly reason: 'no-key' }
  | { readonly ok: false; readonly reason: 'unavailable'; readonly transient: boolean; readonly detail: string };

export interface JwksCache {
  getKey(kid: string | undefined, alg: string): Promise<KeyLookup>;
  /** For tests and metrics: fetches attempted so far. */
  readonly stats: { fetches: number; failures: number };
  /** Resolves when no fetch is running (tests wait for a background refresh this way, not by sleeping). */
  whenIdle(): Promise<void>;
}

/** A fetch failure: transient (network, timeout, 5xx) or a configuration problem (4xx, malformed, too large). */
export class KeySourceError extends Error {
  readonly transient: boolean;
  constructor(message: string, transient: boolean) {
    super(message);
    this.transient = transient;
  }
}

/** GET a JSON document with a hard size and time limit; redirects are not followed (they could leave https). */
export function createFetchJson(maxBytes: number, timeoutMs: number): FetchJson {
  return async (url) => {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    } catch (err) {
      throw new KeySourceError(`${url}: ${(err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message}`, true);
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new KeySourceError(`${url}: HTTP ${res.status}`, res.status >= 500 || res.status === 429);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new KeySourceError(`${url}: response of ${declared} bytes exceeds ${maxBytes}`, false);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > maxBytes) throw new KeySourceError(`${url}: response exceeds ${maxBytes} bytes`, false);
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof KeySourceError) throw err;
      throw new KeySourceError(`${url}: ${(err as Error).message}`, true);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      throw new KeySourceError(`${url}: response is not JSON`, false);
    }
  };
}

interface KeySet {
  readonly jwks: readonly JWK[];
  readonly imported: Map<string, Promise<CryptoKey | Uint8Array | undefined>>;
  readonly loadedAt: number;
}

export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const { clock, ttlMs, cooldownMs } = options;
  const fetchJson = createFetchJson(options.maxBytes, options.timeoutMs);
  let current: KeySet | undefined;
  let inflight: Promise<void> | undefined;
  let lastAttemptAt = -Infinity;
  let lastKidRefetchAt = -Infinity;
  let lastError: KeySourceError | undefined;
  const stats = { fetches: 0, failures: 0 };

  /** One fetch at a time: concurrent callers share the promise (no amplification). */
  function refresh(): Promise<void> {
    if (inflight) return inflight;
    lastAttemptAt = clock.now();
    stats.fetches++;
    inflight = (async () => {
      let ok = false;
      try {
        const url = await options.resolveUrl(fetchJson);
        const doc = await fetchJson(url);
        const keys = (doc as { keys?: unknown })?.keys;
        if (!Array.isArray(keys)) throw new KeySourceError(`${url}: not a JWK set (no "keys" array)`, false);
        current = { jwks: keys.filter(isUsableJwk), imported: new Map(), loadedAt: clock.now() };
        lastError = undefined;
        ok = true;
      } catch (err) {
        stats.failures++;
        // The last good key set stays in place: a provider outage must not turn valid tokens away.
        lastError = err instanceof KeySourceError ? err : new KeySourceError(String((err as Error)?.message ?? err), true);
      } finally {
        inflight = undefined;
      }
      options.onRefresh?.(ok ? 'ok' : 'error');
    })();
    return inflight;
  }

  function find(set: KeySet, kid: string | undefined, alg: string): Promise<CryptoKey | Uint8Array | undefined> | undefined {
    const candidates = set.jwks.filter((k) => (kid === undefined ? true : k.kid === kid) && (k.alg === undefined || k.alg === alg));
    // Without a kid the choice must be unambiguous.
    if (candidates.length !== 1) return undefined;
    const id = `${kid ?? ''}\n${alg}`;
    let p = set.imported.get(id);
    if (p === undefined) {
      p = importJWK(candidates[0], alg).then(
        (k) => k,
        () => undefined, // wrong key type for the algorithm: no key
      );
      set.imported.set(id, p);
    }
    return p;
  }

  /**
   * A kid the current set lacks. While the provider is failing (the latest fetch failed) the key may well be
   * one it rotated to: that is the provider's outage, a 5xx, not the client's fault (peer-gateways 4.4).
   */
  function unknownKid(): KeyLookup {
    if (lastError !== undefined) return { ok: false, reason: 'unavailable', transient: lastError.transient, detail: `unknown kid while the key source fails: ${lastError.message}` };
    return { ok: false, reason: 'no-key' };
  }

  return {
    stats,
    whenIdle: () => inflight ?? Promise.resolve(),
    async getKey(kid, alg) {
      const now = clock.now();
      if (current === undefined) {
        // Cold: fetch, but an outage is retried at most once per cooldown.
        if (inflight !== undefined || now - lastAttemptAt >= cooldownMs || lastError === undefined) await refresh();
        if (current === undefined) {
          const e = lastError ?? new KeySourceError('no key set loaded', true);
          return { ok: false, reason: 'unavailable', transient: e.transient, detail: e.message };
        }
      } else if (now - current.loadedAt >= ttlMs && inflight === undefined && now - lastAttemptAt >= cooldownMs) {
        // Stale: keep serving the current set while a background refresh runs.
        void refresh();
      }
      let key = await find(current!, kid, alg);
      if (key !== undefined) return { ok: true, key };
      // Unknown kid: perhaps the provider rotated. Refetch once per cooldown, shared by all callers. The
      // cooldown counts from the last unknown-kid refetch only, so a key published just after a routine
      // load is still found at once, while forged kids can never cause more than one fetch per cooldown.
      if (inflight !== undefined) await inflight;
      else if (clock.now() - lastKidRefetchAt >= cooldownMs) {
        lastKidRefetchAt = clock.now();
        await refresh();
      } else return unknownKid();
      key = await find(current!, kid, alg);
      return key !== undefined ? { ok: true, key } : unknownKid();
    },
  };
}

/** Public signing keys only: a JWK with private parts, or meant for encryption, is never used. */
function isUsableJwk(k: unknown): k is JWK {
  if (typeof k !== 'object' || k === null) return false;
  const j = k as JWK;
  if (typeof j.kty !== 'string' || j.kty === 'oct') return false;
  if (j.use !== undefined && j.use !== 'sig') return false;
  if (j.d !== undefined) return false;
  return true;
}
