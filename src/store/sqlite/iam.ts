// The IAM sub-port on SQLite: managed policies, principals with their attachments (foreign keys make an
// attached policy undeletable and an unknown one unattachable), access keys and a version row.
import type Database from 'better-sqlite3';
import { hasErrorCode, normalizeTimestamp } from '../adapter-kit.ts';
import type { IamAccessKeyRecord, IamPolicyRecord, IamPrincipalRecord, IamStore } from '../iam-port.ts';
import { StoreConflictError, StoreNotFoundError } from '../ports.ts';
import { checkNewAccessKey, checkNewPrincipal, checkPolicyInput, checkPrincipalPatch, checkStatus, checkType } from '../iam-kit.ts';

export const SQLITE_IAM_SQL = `
  CREATE TABLE iam_policies (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    document     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
  ) STRICT;

  CREATE TABLE iam_principals (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL CHECK (type IN ('user', 'role')),
    account_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    path        TEXT NOT NULL,
    tags        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (account_id, type, name)
  ) STRICT;

  CREATE TABLE iam_principal_policies (
    principal_id  TEXT NOT NULL REFERENCES iam_principals (id) ON DELETE CASCADE,
    policy_name   TEXT NOT NULL REFERENCES iam_policies (name) ON DELETE RESTRICT,
    position      INTEGER NOT NULL,
    PRIMARY KEY (principal_id, policy_name)
  ) STRICT;
  CREATE INDEX iam_principal_policies_policy ON iam_principal_policies (policy_name);

  CREATE TABLE iam_access_keys (
    id                  TEXT PRIMARY KEY,
    principal_id        TEXT NOT NULL REFERENCES iam_principals (id) ON DELETE CASCADE,
    secret_ciphertext   TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at          TEXT NOT NULL,
    last_used_at        TEXT,
    expires_at          TEXT,
    session_token_hash  TEXT
  ) STRICT;
  CREATE INDEX iam_access_keys_principal ON iam_access_keys (principal_id);

  CREATE TABLE iam_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
  ) STRICT;
  INSERT INTO iam_version (id, version) VALUES (1, 1);
`;

interface PolicyRow { name: string; description: string; document: string; created_at: string; updated_at: string }
interface PrincipalRow { id: string; type: 'user' | 'role'; account_id: string; name: string; path: string; tags: string; created_at: string; updated_at: string }
interface KeyRow {
  id: string; principal_id: string; secret_ciphertext: string; status: 'active' | 'inactive';
  created_at: string; last_used_at: string | null; expires_at: string | null; session_token_hash: string | null;
}

const P_COLS = 'id, type, account_id, name, path, tags, created_at, updated_at';
const K_COLS = 'id, principal_id, secret_ciphertext, status, created_at, last_used_at, expires_at, session_token_hash';

const toPolicy = (r: PolicyRow): IamPolicyRecord => ({ name: r.name, description: r.description, document: r.document, createdAt: r.created_at, updatedAt: r.updated_at });
const toKey = (r: KeyRow): IamAccessKeyRecord => ({
  id: r.id, principalId: r.principal_id, secretCiphertext: r.secret_ciphertext, status: r.status, createdAt: r.created_at,
  lastUsedAt: r.last_used_at, expiresAt: r.expires_at, sessionTokenHash: r.session_token_hash,
});

export function createSqliteIamStore(db: Database.Database, live: () => void): IamStore {
  const sql = {
    policy: db.prepare<[string], PolicyRow>('SELECT name, description, document, created_at, updated_at FROM iam_policies WHERE name = ?'),
    policies: db.prepare<[], PolicyRow>('SELECT name, description, document, created_at, updated_at FROM iam_policies ORDER BY name'),
    insertPolicy: db.prepare('INSERT INTO iam_policies (name, description, document, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
    updatePolicy: db.prepare('UPDATE iam_policies SET description = ?, document = ?, updated_at = ? WHERE name = ?'),
    deletePolicy: db.prepare<[string]>('DELETE FROM iam_policies WHERE name = ?'),
    principal: db.prepare<[string], PrincipalRow>(`SELECT ${P_COLS} FROM iam_principals WHERE id = ?`),
    findPrincipal: db.prepare<[string, string, string], PrincipalRow>(`SELECT ${P_COLS} FROM iam_principals WHERE account_id = ? AND type = ? AND name = ?`),
    principals: db.prepare<[], PrincipalRow>(`SELECT ${P_COLS} FROM iam_principals ORDER BY account_id, type, name`),
    insertPrincipal: db.prepare(`INSERT INTO iam_principals (${P_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    updatePrincipal: db.prepare('UPDATE iam_principals SET path = ?, tags = ?, updated_at = ? WHERE id = ?'),
    deletePrincipal: db.prepare<[string]>('DELETE FROM iam_principals WHERE id = ?'),
    attachments: db.prepare<[string], { policy_name: string }>('SELECT policy_name FROM iam_principal_policies WHERE principal_id = ? ORDER BY position'),
    allAttachments: db.prepare<[], { principal_id: string; policy_name: string }>('SELECT principal_id, policy_name FROM iam_principal_policies ORDER BY principal_id, position'),
    attach: db.prepare('INSERT INTO iam_principal_policies (principal_id, policy_name, position) VALUES (?, ?, ?)'),
    detachAll: db.prepare<[string]>('DELETE FROM iam_principal_policies WHERE principal_id = ?'),
    key: db.prepare<[string], KeyRow>(`SELECT ${K_COLS} FROM iam_access_keys WHERE id = ?`),
    keys: db.prepare<[], KeyRow>(`SELECT ${K_COLS} FROM iam_access_keys ORDER BY id`),
    keysOf: db.prepare<[string], KeyRow>(`SELECT ${K_COLS} FROM iam_access_keys WHERE principal_id = ? ORDER BY id`),
    insertKey: db.prepare(`INSERT INTO iam_access_keys (${K_COLS}) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`),
    setStatus: db.prepare('UPDATE iam_access_keys SET status = ? WHERE id = ?'),
    deleteKey: db.prepare<[string]>('DELETE FROM iam_access_keys WHERE id = ?'),
    touch: db.prepare('UPDATE iam_access_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)'),
    bump: db.prepare('UPDATE iam_version SET version = version + 1 WHERE id = 1'),
    version: db.prepare<[], { version: number }>('SELECT version FROM iam_version WHERE id = 1'),
  };

  const toPrincipal = (r: PrincipalRow): IamPrincipalRecord => ({
    id: r.id, type: r.type, accountId: r.account_id, name: r.name, path: r.path, tags: JSON.parse(r.tags) as Record<string, string>,
    policies: sql.attachments.all(r.id).map((a) => a.policy_name), createdAt: r.created_at, updatedAt: r.updated_at,
  });
  const attach = (id: string, names: readonly string[]): void => {
    names.forEach((n, i) => {
      try {
        sql.attach.run(id, n, i);
      } catch (err) {
        if (hasErrorCode(err, ['SQLITE_CONSTRAINT_FOREIGNKEY'])) throw new StoreNotFoundError(`policy ${JSON.stringify(n)} does not exist`, { cause: err });
        throw err;
      }
    });
  };

  const putPolicyTx = db.transaction((p: { name: string; description: string; document: string }, at: string) => {
    const existing = sql.policy.get(p.name);
    if (existing) sql.updatePolicy.run(p.description, p.document, at, p.name);
    else sql.insertPolicy.run(p.name, p.description, p.document, at, at);
    sql.bump.run();
    return { record: toPolicy(sql.policy.get(p.name)!), created: !existing };
  });
  const deletePolicyTx = db.transaction((name: string) => {
    let changes: number;
    try {
      changes = sql.deletePolicy.run(name).changes;
    } catch (err) {
      if (hasErrorCode(err, ['SQLITE_CONSTRAINT_FOREIGNKEY', 'SQLITE_CONSTRAINT_TRIGGER'])) {
        throw new StoreConflictError(`policy ${JSON.stringify(name)} is attached to a principal; detach it first`, { cause: err });
      }
      throw err;
    }
    if (changes) sql.bump.run();
    return changes > 0;
  });
  const createPrincipalTx = db.transaction((p: ReturnType<typeof checkNewPrincipal>) => {
    try {
      sql.insertPrincipal.run(p.id, p.type, p.accountId, p.name, p.path, JSON.stringify(p.tags), p.createdAt, p.createdAt);
    } catch (err) {
      if (hasErrorCode(err, ['SQLITE_CONSTRAINT_PRIMARYKEY'])) throw new StoreConflictError(`principal id ${JSON.stringify(p.id)} already exists`, { cause: err });
      if (hasErrorCode(err, ['SQLITE_CONSTRAINT_UNIQUE'])) throw new StoreConflictError(`a ${p.type} named ${JSON.stringify(p.name)} already exists in account ${p.accountId}`, { cause: err });
      throw err;
    }
    attach(p.id, p.policies);
    sql.bump.run();
    return toPrincipal(sql.principal.get(p.id)!);
  });
  const updatePrincipalTx = db.transaction((id: string, patch: ReturnType<typeof checkPrincipalPatch>, at: string) => {
    const row = sql.principal.get(id);
    if (!row) throw new StoreNotFoundError(`principal ${JSON.stringify(id)} does not exist`);
    sql.updatePrincipal.run(patch.path ?? row.path, patch.tags ? JSON.stringify(patch.tags) : row.tags, at, id);
    if (patch.policies) {
      sql.detachAll.run(id);
      attach(id, patch.policies);
    }
    sql.bump.run();
    return toPrincipal(sql.principal.get(id)!);
  });
  const deletePrincipalTx = db.transaction((id: string) => {
    const changes = sql.deletePrincipal.run(id).changes;
    if (changes) sql.bump.run();
    return changes > 0;
  });
  const createKeyTx = db.transaction((k: ReturnType<typeof checkNewAccessKey>) => {
    try {
      sql.insertKey.run(k.id, k.principalId, k.secretCiphertext, k.status, k.createdAt, k.expiresAt, k.sessionTokenHash);
    } catch (err) {
      if (hasErrorCode(err, ['SQLITE_CONSTRAINT_PRIMARYKEY'])) throw new StoreConflictError(`access key ${JSON.stringify(k.id)} already exists`, { cause: err });
      if (hasErrorCode(err, ['SQLITE_CONSTRAINT_FOREIGNKEY'])) throw new StoreNotFoundError(`principal ${JSON.stringify(k.principalId)} does not exist`, { cause: err });
      throw err;
    }
    sql.bump.run();
    return toKey(sql.key.get(k.id)!);
  });
  const setStatusTx = db.transaction((id: string, status: 'active' | 'inactive') => {
    if (sql.setStatus.run(status, id).changes === 0) throw new StoreNotFoundError(`access key ${JSON.stringify(id)} does not exist`);
    sql.bump.run();
    return toKey(sql.key.get(id)!);
  });
  const deleteKeyTx = db.transaction((id: string) => {
    const changes = sql.deleteKey.run(id).changes;
    if (changes) sql.bump.run();
    return changes > 0;
  });

  const store: IamStore = {
    async putPolicy(p, at) {
      live();
      return putPolicyTx.immediate(checkPolicyInput(p), normalizeTimestamp(at, 'at'));
    },
    async getPolicy(name) {
      live();
      const r = sql.policy.get(String(name));
      return r ? toPolicy(r) : undefined;
    },
    async listPolicies() {
      live();
      return sql.policies.all().map(toPolicy);
    },
    async deletePolicy(name) {
      live();
      return deletePolicyTx.immediate(String(name));
    },
    async createPrincipal(p) {
      live();
      return createPrincipalTx.immediate(checkNewPrincipal(p));
    },
    async getPrincipal(id) {
      live();
      const r = sql.principal.get(String(id));
      return r ? toPrincipal(r) : undefined;
    },
    async findPrincipal(accountId, type, name) {
      live();
      const r = sql.findPrincipal.get(String(accountId), checkType(type), String(name));
      return r ? toPrincipal(r) : undefined;
    },
    async listPrincipals() {
      live();
      const attached = new Map<string, string[]>();
      for (const a of sql.allAttachments.all()) {
        let l = attached.get(a.principal_id);
        if (!l) attached.set(a.principal_id, (l = []));
        l.push(a.policy_name);
      }
      return sql.principals.all().map((r) => ({ ...toPrincipalBase(r), policies: attached.get(r.id) ?? [] }));
    },
    async updatePrincipal(id, patch, at) {
      live();
      return updatePrincipalTx.immediate(String(id), checkPrincipalPatch(patch), normalizeTimestamp(at, 'at'));
    },
    async deletePrincipal(id) {
      live();
      return deletePrincipalTx.immediate(String(id));
    },
    async createAccessKey(k) {
      live();
      return createKeyTx.immediate(checkNewAccessKey(k));
    },
    async getAccessKey(id) {
      live();
      const r = sql.key.get(String(id));
      return r ? toKey(r) : undefined;
    },
    async listAccessKeys(principalId) {
      live();
      return (principalId === undefined ? sql.keys.all() : sql.keysOf.all(String(principalId))).map(toKey);
    },
    async setAccessKeyStatus(id, status) {
      live();
      return setStatusTx.immediate(String(id), checkStatus(status));
    },
    async deleteAccessKey(id) {
      live();
      return deleteKeyTx.immediate(String(id));
    },
    async touchAccessKey(id, at) {
      live();
      const t = normalizeTimestamp(at, 'at');
      sql.touch.run(t, String(id), t);
    },
    async version() {
      live();
      return sql.version.get()!.version;
    },
  };
  return Object.freeze(store);
}

function toPrincipalBase(r: PrincipalRow): Omit<IamPrincipalRecord, 'policies'> {
  return { id: r.id, type: r.type, accountId: r.account_id, name: r.name, path: r.path, tags: JSON.parse(r.tags) as Record<string, string>, createdAt: r.created_at, updatedAt: r.updated_at };
}
