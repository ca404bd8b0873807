// Storage ports (ARCHITECTURE.md section 4): narrow interfaces that the SQLite and PostgreSQL adapters
// implement and one contract suite (test/store/store-contract.ts) checks against both, on real servers.
// Later capabilities add their own sub-ports (api keys, principals, usage, audit) beside these.

export type DefinitionFormat = 'yaml' | 'json';

export interface RevisionSummary {
  /** 1, 2, 3...: assigned by the store, never reused. */
  readonly number: number;
  readonly createdAt: string; // ISO 8601 UTC
  readonly sha256: string; // hex digest of source
  readonly format: DefinitionFormat;
  readonly sizeBytes: number;
  readonly comment: string | null;
  readonly createdBy: string | null;
}

export interface RevisionRecord extends RevisionSummary {
  readonly source: string;
}

export interface NewRevision {
  readonly source: string;
  readonly format: DefinitionFormat;
  readonly sha256: string;
  readonly comment?: string | null;
  readonly createdBy?: string | null;
}

export interface DeploymentRecord {
  readonly id: number;
  readonly revision: number;
  readonly deployedAt: string;
  readonly deployedBy: string | null;
}

export interface RevisionStore {
  /** Stores an immutable revision with the next number (atomic across processes). */
  create(input: NewRevision): Promise<RevisionRecord>;
  get(number: number): Promise<RevisionRecord | undefined>;
  /** Newest first. */
  list(options?: { limit?: number; before?: number }): Promise<RevisionSummary[]>;
}

export interface DeploymentStore {
  /** Makes `revision` the active one (the revision must exist) and records who did it. */
  activate(revision: number, deployedBy: string | null): Promise<DeploymentRecord>;
  current(): Promise<DeploymentRecord | undefined>;
  /** Newest first. */
  history(options?: { limit?: number }): Promise<DeploymentRecord[]>;
}

export type AdminRole = 'admin' | 'operator' | 'read-only';
export const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'operator', 'read-only'];

export interface AdminTokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: AdminRole;
  /** Hex SHA-256 of the token value; the value itself is never stored. */
  readonly hash: string;
  /** First characters of the token (its public prefix), to recognise it in listings. */
  readonly hint: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

export interface AdminTokenStore {
  /** Fails with StoreConflictError when the id or the hash already exists. */
  create(record: Omit<AdminTokenRecord, 'revokedAt' | 'lastUsedAt'>): Promise<AdminTokenRecord>;
  findByHash(hash: string): Promise<AdminTokenRecord | undefined>;
  get(id: string): Promise<AdminTokenRecord | undefined>;
  list(): Promise<AdminTokenRecord[]>;
  /** Returns false when no such token or already revoked. */
  revoke(id: string, at: string): Promise<boolean>;
  touch(id: string, at: string): Promise<void>;
  countActive(): Promise<number>;
}

/** Small key/value settings the gateway keeps for itself (for example generated server secrets). */
export interface MetaStore {
  get(key: string): Promise<string | undefined>;
  /** Sets the value only when the key is absent; returns the value now stored (race-safe). */
  setIfAbsent(key: string, value: string): Promise<string>;
  set(key: string, value: string): Promise<void>;
}

export type ChangeChannel = 'deployment' | 'entities';

/** Change notification: in-process for SQLite, LISTEN/NOTIFY for PostgreSQL. */
export interface ChangeNotifier {
  publish(channel: ChangeChannel, payload: string): Promise<void>;
  /** Returns an unsubscribe function. Listeners in this process also receive its own publishes. */
  subscribe(channel: ChangeChannel, listener: (payload: string) => void): Promise<() => Promise<void>>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Human-readable location without credentials (a file path or host/db). */
  readonly location: string;
  readonly revisions: RevisionStore;
  readonly deployments: DeploymentStore;
  readonly adminTokens: AdminTokenStore;
  readonly meta: MetaStore;
  /** API keys, plan subscriptions and usage records (api-keys-port.ts). */
  readonly apiKeys: import('./api-keys-port.ts').ApiKeyStore;
  /** IAM principals, identity policies and access keys (iam-port.ts). */
  readonly iam: import('./iam-port.ts').IamStore;
  /** The append-only, hash-chained audit trail and its signed digests (audit-port.ts). */
  readonly audit: import('./audit-port.ts').AuditStore;
  readonly changes: ChangeNotifier;
  /** Cheap liveness probe used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class StoreConflictError extends Error {
  readonly code = 'STORE_CONFLICT';
}
export class StoreNotFoundError extends Error {
  readonly code = 'STORE_NOT_FOUND';
}
