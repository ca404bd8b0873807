// The in-memory key directory the request path reads: keyed hash -> key state and its plan subscriptions.
// Loaded at start from lean rows; refreshed on the store's 'entities' channel (one key at once) and by polling
// the store's cheap version counter every second (full reload), so a change reaches every node within a second.
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
  lookup(hash: string): DirectoryHit | undefined;
  readonly size: number;
  /** Re-reads everything now. */
  reload(): Promise<void>;
  /** Re-reads one key (after a change this process made or heard of). */
  refreshKey(id: string): Promise<void>;
  close(): Promise<void>;
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

const PAGE = 10_000;

interface Entry {
  readonly hit: DirectoryHit;
  readonly hashes: readonly string[];
}

export async function createKeyDirectory({ store, changes, pollIntervalMs = 1000, onError = () => {} }: KeyDirectoryOptions): Promise<KeyDirectory> {
  let byHash = new Map<string, DirectoryHit>();
  let byId = new Map<string, Entry>();
  let version = -1;
  let closed = false;

  const put = (hashMap: Map<string, DirectoryHit>, idMap: Map<string, Entry>, row: DirectoryRow): void => {
    const key: DirectoryKey = {
      id: row.id,
      enabled: row.enabled,
      expiresAtMs: row.expiresAt ?? Infinity,
      plans: row.plans,
    };
    const hit: DirectoryHit = { key, untilMs: Infinity };
    hashMap.set(row.hash, hit);
    if (row.previousHash !== null && row.previousHashUntil !== null) {
      hashMap.set(row.previousHash, { key, untilMs: row.previousHashUntil });
      idMap.set(row.id, { hit, hashes: [row.hash, row.previousHash] });
    } else idMap.set(row.id, { hit, hashes: [row.hash] });
  };

  let loading: Promise<void> | undefined;
  async function loadAll(): Promise<void> {
    const v = await store.version();
    const hashMap = new Map<string, DirectoryHit>();
    const idMap = new Map<string, Entry>();
    let after = '';
    for (;;) {
      const page = await store.directoryPage(after, PAGE);
      for (const row of page) put(hashMap, idMap, row);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    // One assignment each: readers never see a half-built directory.
    byHash = hashMap;
    byId = idMap;
    version = v;
  }
  const reload = (): Promise<void> => (loading ??= loadAll().finally(() => (loading = undefined)));

  async function refreshKey(id: string): Promise<void> {
    // The page after the id just below this one starts at this id, if it still exists.
    const [row] = await store.directoryPage(id.slice(0, -1) + String.fromCharCode(id.charCodeAt(id.length - 1) - 1) + '\uffff', 1);
    const old = byId.get(id);
    if (old) for (const h of old.hashes) byHash.delete(h);
    byId.delete(id);
    if (row && row.id === id) put(byHash, byId, row);
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
    if (closed || loading) return;
    store.version().then((v) => (v !== version ? reload() : undefined)).catch(onError);
  }, pollIntervalMs);
  timer.unref();

  return {
    lookup: (hash) => byHash.get(hash),
    get size() {
      return byId.size;
    },
    reload,
    refreshKey,
    async close() {
      closed = true;
      clearInterval(timer);
      await unsubscribe?.();
      await loading?.catch(() => undefined);
    },
  };
}
