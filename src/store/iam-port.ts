// The IAM sub-port of the Store: principals (users and roles with account, path, tags and attached identity
// policies), managed identity policies, and access keys (secret stored encrypted), plus a version counter every
// change bumps so gateway nodes can poll for changes cheaply.

export type PrincipalType = 'user' | 'role';

export interface IamPolicyRecord {
  /** Unique name, 1-128 of [A-Za-z0-9+=,.@_-] (IAM's policy-name alphabet). */
  readonly name: string;
  readonly description: string;
  /** The policy document as compact JSON text; validated with the policy engine before it is stored. */
  readonly document: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface IamPrincipalRecord {
  /** AIDA... for users, AROA... for roles: stable, unique, never reused (aws:userid). */
  readonly id: string;
  readonly type: PrincipalType;
  readonly accountId: string;
  readonly name: string;
  /** IAM path: "/" or "/a/b/". */
  readonly path: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Names of attached managed policies, in attachment order. */
  readonly policies: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type NewIamPrincipal = Omit<IamPrincipalRecord, 'updatedAt'>;

export interface IamPrincipalPatch {
  readonly path?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly policies?: readonly string[];
}

export type AccessKeyStatus = 'active' | 'inactive';

export interface IamAccessKeyRecord {
  /** AKIA... (long-term) or ASIA... (temporary). */
  readonly id: string;
  readonly principalId: string;
  /** The secret access key encrypted with the master key (see src/iam/secret-box.ts); never the plain value. */
  readonly secretCiphertext: string;
  readonly status: AccessKeyStatus;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  /** Temporary credentials only. */
  readonly expiresAt: string | null;
  /** Temporary credentials only: hex SHA-256 of the session token. */
  readonly sessionTokenHash: string | null;
}

export type NewIamAccessKey = Omit<IamAccessKeyRecord, 'lastUsedAt'>;

export interface IamStore {
  /** Creates or replaces a policy by name; `created` says which. */
  putPolicy(p: { name: string; description: string; document: string }, at: string): Promise<{ record: IamPolicyRecord; created: boolean }>;
  getPolicy(name: string): Promise<IamPolicyRecord | undefined>;
  /** Ordered by name. */
  listPolicies(): Promise<IamPolicyRecord[]>;
  /** False when absent; StoreConflictError while a principal has it attached. */
  deletePolicy(name: string): Promise<boolean>;

  /** StoreConflictError when the id or (account, type, name) is taken; StoreNotFoundError for an unknown policy. */
  createPrincipal(p: NewIamPrincipal): Promise<IamPrincipalRecord>;
  getPrincipal(id: string): Promise<IamPrincipalRecord | undefined>;
  findPrincipal(accountId: string, type: PrincipalType, name: string): Promise<IamPrincipalRecord | undefined>;
  /** Ordered by account, type, name. */
  listPrincipals(): Promise<IamPrincipalRecord[]>;
  /** StoreNotFoundError for an unknown principal or policy. */
  updatePrincipal(id: string, patch: IamPrincipalPatch, at: string): Promise<IamPrincipalRecord>;
  /** Deletes the principal and its access keys; false when absent. */
  deletePrincipal(id: string): Promise<boolean>;

  /** StoreConflictError when the id is taken; StoreNotFoundError for an unknown principal. */
  createAccessKey(k: NewIamAccessKey): Promise<IamAccessKeyRecord>;
  getAccessKey(id: string): Promise<IamAccessKeyRecord | undefined>;
  /** Ordered by id; one principal's keys when principalId is given. */
  listAccessKeys(principalId?: string): Promise<IamAccessKeyRecord[]>;
  /** StoreNotFoundError when absent. */
  setAccessKeyStatus(id: string, status: AccessKeyStatus): Promise<IamAccessKeyRecord>;
  deleteAccessKey(id: string): Promise<boolean>;
  /** Records use (monotonic: an older time never overwrites a newer one). Does not bump the version. */
  touchAccessKey(id: string, at: string): Promise<void>;

  /** Bumped by every change except touchAccessKey. */
  version(): Promise<number>;
}
