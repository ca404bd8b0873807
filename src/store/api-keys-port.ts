// The API-key sub-port of the Store: keys (only keyed hashes, never values), plan subscriptions, daily usage
// records, and a version counter every mutation bumps so gateway nodes can poll for changes cheaply.

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly customerId: string | null;
  readonly tags: Readonly<Record<string, string>>;
  readonly enabled: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string | null;
  /** Hex HMAC-SHA-256 of the value under the server secret. */
  readonly hash: string;
  /** First characters of the value. */
  readonly hint: string;
  /** Hash of the value before the last rotation, accepted until previousHashUntil. */
  readonly previousHash: string | null;
  readonly previousHashUntil: string | null;
}

export type NewApiKey = Omit<ApiKeyRecord, 'previousHash' | 'previousHashUntil' | 'updatedAt'>;

export interface ApiKeyPatch {
  readonly name?: string;
  readonly description?: string;
  readonly customerId?: string | null;
  readonly tags?: Readonly<Record<string, string>>;
  readonly enabled?: boolean;
  readonly expiresAt?: string | null;
}

export interface SubscriptionRecord {
  readonly keyId: string;
  readonly plan: string;
  readonly createdAt: string;
}

export interface UsageDelta {
  readonly plan: string;
  readonly keyId: string;
  /** YYYY-MM-DD (UTC). */
  readonly day: string;
  /** Accepted requests to add. */
  readonly used: number;
  /** Quota adjustment to add (UpdateUsage: positive uses up quota, negative gives it back). */
  readonly adjust?: number;
}

/** A usage record's whole count (not a delta), as the counter store holds it (Redis). */
export interface UsageCount {
  readonly plan: string;
  readonly keyId: string;
  /** YYYY-MM-DD (UTC). */
  readonly day: string;
  readonly used: number;
}

export interface UsageRow {
  readonly plan: string;
  readonly keyId: string;
  readonly day: string;
  readonly used: number;
  readonly adjust: number;
}

/** One imported key: created, or replacing the key that has the same hash (AWS: re-import overwrites). */
export interface ImportedKey {
  readonly key: NewApiKey;
  readonly plans: readonly string[];
}

/** One key as the request path needs it; `plans` alternates plan name and subscription time (ms). */
export interface DirectoryRow {
  readonly id: string;
  readonly enabled: boolean;
  /** ms since the epoch, or null. */
  readonly expiresAt: number | null;
  readonly hash: string;
  readonly previousHash: string | null;
  readonly previousHashUntil: number | null;
  readonly plans: ReadonlyArray<readonly [string, number]>;
}

export interface ApiKeyStore {
  /** StoreConflictError when the id or the hash is taken. */
  create(key: NewApiKey, plans?: readonly string[]): Promise<ApiKeyRecord>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Ordered by id. */
  list(options?: { limit?: number; after?: string }): Promise<ApiKeyRecord[]>;
  /** StoreNotFoundError when absent. */
  update(id: string, patch: ApiKeyPatch, at: string): Promise<ApiKeyRecord>;
  /** New hash; the current one stays valid until `until` (null: the old value stops at once). */
  rotate(id: string, change: { hash: string; hint: string; until: string | null }, at: string): Promise<ApiKeyRecord>;
  /** Removes the key and its subscriptions; false when absent. */
  delete(id: string): Promise<boolean>;
  /** All in one transaction: every key created or overwritten (by hash), or none. Returns how many were new. */
  importMany(keys: readonly ImportedKey[], at: string): Promise<{ created: number; updated: number }>;

  /**
   * Subscribes the key (idempotent). StoreConflictError when it is already subscribed to one of `exclusiveWith`,
   * checked in the same transaction as the insert, with the key's row locked: of two subscriptions racing for
   * plans that exclude each other (they cover the same API stage), one wins, on one node or many.
   */
  subscribe(keyId: string, plan: string, at: string, exclusiveWith?: readonly string[]): Promise<SubscriptionRecord>;
  /** false when there was no such subscription. */
  unsubscribe(keyId: string, plan: string): Promise<boolean>;
  subscriptions(filter?: { keyId?: string; plan?: string }): Promise<SubscriptionRecord[]>;

  /** Adds deltas (upsert per plan, key, day) in one transaction. Does not bump the version. */
  addUsage(deltas: readonly UsageDelta[]): Promise<void>;
  /**
   * Raises each record's used count to at least the given whole count, never lowering it (upsert, one transaction):
   * copies of the counter store's counts may arrive twice or out of order. Does not bump the version.
   */
  raiseUsage(counts: readonly UsageCount[]): Promise<void>;
  /** Rows with fromDay <= day <= toDay, ordered by key then day. */
  usage(filter: { plan: string; fromDay: string; toDay: string; keyId?: string }): Promise<UsageRow[]>;

  /**
   * The lean rows the gateway's in-memory key directory is built from, ordered by id (pages of `limit` after
   * `after`): no names, tags or descriptions, so 100,000 keys load quickly and without much garbage.
   */
  directoryPage(after: string, limit: number): Promise<DirectoryRow[]>;

  /** Bumped by every key or subscription change: what nodes poll to notice changes they did not hear. */
  version(): Promise<number>;

  /**
   * What changed after `since` (a version() value), read at one instant: the version then, and the ids of the
   * keys whose rows or subscriptions changed, or 'all' after a bulk change (an import) or when the change log no
   * longer reaches back to `since` (it keeps the last CHANGE_LOG_KEEP changes). Lets a node that polls re-read
   * only what changed instead of every key.
   */
  changesSince(since: number): Promise<KeyChanges>;
}

export interface KeyChanges {
  readonly version: number;
  /** Distinct, in the order of their latest change. */
  readonly keys: readonly string[] | 'all';
}

/** Changes the log keeps; a node further behind re-reads everything. */
export const CHANGE_LOG_KEEP = 10_000;
/** The key id a bulk change (an import) logs: every key may have changed. */
export const ALL_KEYS = '*';

/** Builds the answer of changesSince from the logged key ids after `since` (oldest first). */
export function keyChanges(version: number, since: number, logged: readonly string[]): KeyChanges {
  if (since < version - CHANGE_LOG_KEEP) return { version, keys: 'all' };
  const seen = new Set<string>();
  for (let i = logged.length - 1; i >= 0; i--) {
    const id = logged[i]!;
    if (id === ALL_KEYS) return { version, keys: 'all' };
    seen.add(id);
  }
  return { version, keys: [...seen].reverse() };
}
