// The audit sub-port: an append-only, hash-chained log of control-plane events and the signed digest records
// that seal it (docs/audit.md). Both adapters refuse UPDATE and DELETE with triggers; chaining happens inside
// the adapter's write transaction so concurrent writers (several PostgreSQL nodes) cannot fork the chain.

/** One stored audit event. `body` is the canonical JSON of the whole event, sequence and predecessor hash included. */
export interface AuditEventRow {
  readonly seq: number;
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly actor: string | null;
  readonly body: string;
  /** Hex SHA-256 of `body`. */
  readonly hash: string;
}

/** What the chain builder returns for the next event, given the current head. */
export interface ChainedAuditEvent {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly actor: string | null;
  readonly body: string;
  readonly hash: string;
}

export interface AuditDigestRow {
  readonly seq: number;
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly createdAt: string;
  /** Canonical JSON of the digest fields (what is signed). */
  readonly body: string;
  /** Base64 Ed25519 signature over `body`. */
  readonly signature: string;
}

export interface NewAuditDigest {
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly createdAt: string;
  readonly body: string;
  readonly signature: string;
}

export interface AuditListOptions {
  /** Only events with a sequence number above this (paging). */
  readonly afterSeq?: number;
  readonly fromSeq?: number;
  readonly toSeq?: number;
  /** ISO 8601 bounds on eventTime, inclusive. */
  readonly since?: string;
  readonly until?: string;
  readonly eventName?: string;
  readonly actor?: string;
  /** Default and maximum 10,000. */
  readonly limit?: number;
}

export interface AuditStore {
  /**
   * Appends the next event atomically: `build` receives the current head (undefined for an empty log) and returns
   * the chained event; it runs inside the write lock, so it must be synchronous and cheap.
   */
  append(build: (head: { seq: number; hash: string } | undefined) => ChainedAuditEvent): Promise<AuditEventRow>;
  head(): Promise<{ seq: number; hash: string } | undefined>;
  /** Ascending by sequence number. */
  list(options?: AuditListOptions): Promise<AuditEventRow[]>;
  /**
   * Appends a digest atomically: `build` receives the newest event and the newest digest and returns the next digest,
   * or undefined when there is nothing new to seal.
   */
  appendDigest(
    build: (head: AuditEventRow | undefined, previous: AuditDigestRow | undefined) => NewAuditDigest | undefined,
  ): Promise<AuditDigestRow | undefined>;
  /** Ascending by sequence number. */
  digests(options?: { afterSeq?: number; limit?: number }): Promise<AuditDigestRow[]>;
}

export const AUDIT_LIST_MAX = 10_000;
