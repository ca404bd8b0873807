// The in-memory key directory the request path reads: keyed hash -> key state and its plan subscriptions.
// Loaded at start from lean rows; refreshed on the store's 'entities' channel (one key at once) and by polling
// the store's cheap version counter every second, so a change reaches every node within a second. A poll that
// sees a new version re-reads only the keys the store's change log names (a full reload after an import, or
// when the log no longer reaches back): at 100,000 keys a full reload costs about 0.6 s of a node's CPU, a
// changed key one query.
import type { Clock } from '../core/clock.ts';
import type { ApiKeyStore, DirectoryRow } from '../store/api-keys-port.ts';
import type { ChangeNotifier } from '../store/ports.ts';

export interface DirectoryKey {
  readonly id: string;
  readonly enabled: boolean;
  /** Infinity when the key never expires. */
  readonly expiresAtMs: number;
  /** [plan name, subscription time ms] pairs. */
  readonly plans: ReadonlyArray<readonly [string, number]>;
  /** Per-key memo for the request path (compiled plan -> usage identity), made on first use; dropped with the entry. */
  memo?: Map<object, unknown>;
}

export interface DirectoryHit {
  readonly key: DirectoryKey;
  /** Until when this hash is accepted: Infinity for the current value, the grace end for a rotated one. */
  readonly untilMs: number;
}

export interface KeyDirectory {
  /** By the hex keyed hash (KeyHasher.hash). */
  lookup(hash: string): DirectoryHit | undefined;
  /**
   * By compactHash(hash): the request path caches the compact form and allocates nothing per lookup.
   * Optional so that stand-in directories of tests need only lookup().
   */
  lookupCompact?(compact: string): DirectoryHit | undefined;
  readonly size: number;
  /** Re-reads everything now. */
  reload(): Promise<void>;
  /** Re-reads one key (after a change this process made or heard of). */
  refreshKey(id: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The directory's map key for a hex HMAC-SHA-256: its 32 bytes as a one-byte (latin1) string, 48 bytes on the
 * heap instead of 80 for the 64 hex characters (100,000 keys: 3 MB less).
 */
export function compactHash(hexHash: string): string {
  return Buffer.from(hexHash, 'hex').toString('latin1');
}

/** The payload published on the 'entities' channel for one key. */
export function keyChangePayload(keyId: string): string {
  return JSON.stringify({ kind: 'api-key', id: keyId });
}

export interface KeyDirectoryOptions {
  readonly store: ApiKeyStore;
  readonly changes?: ChangeNotifier;
  readonly clock: Clock;
  readonly pollIntervalMs?: number;
  readonly onError?: (err: unknown) => void;
}

/** More changed keys than this since the last poll: one full reload is cheaper than a query per key. */
const MAX_KEYS_PER_CATCH_UP = 500;

// Small pages: a page's rows are garbage once put in the maps; the fewer of them are alive at once, the less
// of that garbage is promoted to old space and inflates the resident size after a large load.
const PAGE = 1_000;

/*
 * Memory (100,000 keys must add under 50 MB of RSS): a key is ONE object that is also the hit for its
 * current value (key and untilMs are prototype getters, nothing per instance); only a rotated-out value
 * still in its grace period has a hit object of its own. Identical plan lists (every key of one CSV import)
 * share one frozen array. byId holds the same objects, so no second structure per key.
 */
class Key implements DirectoryKey, DirectoryHit {
  memo?: Map<object, unknown>;
  constructor(
    readonly id: string,
    readonly enabled: boolean,
    readonly expiresAtMs: number,
    readonly plans: ReadonlyArray<readonly [string, number]>,
    /** Compact hashes this key is reachable by: the current one, and the previous one during a grace period. */
    readonly hash: string,
    readonly previousHash: string | undefined,
  ) {}
  get key(): DirectoryKey {
    return this;
  }
  get untilMs(): number {
    return Infinity;
  }
}

const NO_PLANS: ReadonlyArray<readonly [string, number]> = Object.freeze([]);

/** Shares equal plan lists between keys (per load: the table is dropped with the load). */
function planInterner(): (plans: ReadonlyArray<readonly [string, number]>) => ReadonlyArray<readonly [string, number]> {
  const table = new Map<string, ReadonlyArray<readonly [string, number]>>();
  return (plans) => {
    if (plans.length === 0) return NO_PLANS;
    let id = '';
    for (const [name, ms] of plans) id += `${name}\n${ms}\n`;
    let shared = table.get(id);
    if (shared === undefined) table.set(id, (shared = Object.freeze(plans.map(([name, ms]) => Object.freeze([name, ms] as const)))));
    return shared;
  };
}

export async function createKeyDirectory({ store, changes, pollIntervalMs = 1000, onError = () => {} }: KeyDirectoryOptions): Promise<KeyDirectory> {
  let byHash = new Map<string, DirectoryHit>();
  let byId = new Map<string, Key>();
  let version = -1;
  let closed = false;

  const put = (
    hashMap: Map<string, DirectoryHit>,
    idMap: Map<string, Key>,
    row: DirectoryRow,
    intern: ReturnType<typeof planInterner>,
  ): void => {
    const hash = compactHash(row.hash);
    const rotated = row.previousHash !== null && row.previousHashUntil !== null;
    const previous = rotated ? compactHash(row.previousHash!) : undefined;
    const key = new Key(row.id, row.enabled, row.expiresAt ?? Infinity, intern(row.plans), hash, previous);
    hashMap.set(hash, key);
    if (previous !== undefined) hashMap.set(previous, { key, untilMs: row.previousHashUntil! });
    idMap.set(row.id, key);
  };

  let loading: Promise<void> | undefined;
  async function loadAll(): Promise<void> {
    const v = await store.version();
    const hashMap = new Map<string, DirectoryHit>();
    const idMap = new Map<string, Key>();
    const intern = planInterner();
    let after = '';
    for (;;) {
      const page = await store.directoryPage(after, PAGE);
      for (const row of page) put(hashMap, idMap, row, intern);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
      // SQLite answers synchronously: without a turn of the event loop between pages, reloading 100,000 keys
      // would stall every request of this node for the whole reload (about 0.6 s).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // One assignment each: readers never see a half-built directory.
    byHash = hashMap;
    byId = idMap;
    version = v;
  }
  const reload = (): Promise<void> => (loading ??= loadAll().finally(() => (loading = undefined)));

  /** Brings the directory to the store's current version, re-reading only the keys that changed. */
  let catching: Promise<void> | undefined;
  async function catchUp(): Promise<void> {
    const since = version;
    const { version: now, keys } = await store.changesSince(since);
    if (now === since) return;
    if (keys === 'all' || keys.length > MAX_KEYS_PER_CATCH_UP) return reload();
    for (const id of keys) await refreshKey(id);
    // A full reload that finished meanwhile may have read a later version: keep the later one.
    if (version === since) version = now;
  }

  async function refreshKey(id: string): Promise<void> {
    // The page after the id just below this one starts at this id, if it still exists.
    const [row] = await store.directoryPage(id.slice(0, -1) + String.fromCharCode(id.charCodeAt(id.length - 1) - 1) + '\uffff', 1);
    const old = byId.get(id);
    if (old) {
      byHash.delete(old.hash);
      if (old.previousHash !== undefined) byHash.delete(old.previousHash);
    }
    byId.delete(id);
    if (row && row.id === id) put(byHash, byId, row, planInterner());
  }

  await reload();

  let unsubscribe: (() => Promise<void>) | undefined;
  if (changes) {
    unsubscribe = await changes.subscribe('entities', (payload) => {
      let msg: { kind?: unknown; id?: unknown };
      try {
        msg = JSON.parse(payload) as typeof msg;
      } catch {
        return;
      }
      if (msg.kind === 'api-key' && typeof msg.id === 'string' && msg.id !== '') refreshKey(msg.id).catch(onError);
      else if (msg.kind === 'api-keys') reload().catch(onError);
    });
  }
  // The poll catches what a lost notification (a dropped LISTEN connection) would miss.
  const timer = setInterval(() => {
    if (closed || loading || catching) return;
    catching = store
      .version()
      .then((v) => (v !== version ? catchUp() : undefined))
      .catch(onError)
      .finally(() => (catching = undefined));
  }, pollIntervalMs);
  timer.unref();

  return {
    lookup: (hash) => byHash.get(compactHash(hash)),
    lookupCompact: (compact) => byHash.get(compact),
    get size() {
      return byId.size;
    },
    reload,
    refreshKey,
    async close() {
      closed = true;
      clearInterval(timer);
      await unsubscribe?.();
      await catching;
      await loading?.catch(() => undefined);
    },
  };
}
