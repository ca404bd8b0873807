// The IAM sub-port on PostgreSQL: managed policies, principals with their attachments (foreign keys make an
// attached policy undeletable and an unknown one unattachable), access keys and a version row.
import type pg from 'pg';
import { hasErrorCode, normalizeTimestamp } from '../adapter-kit.ts';
import type { IamAccessKeyRecord, IamPolicyRecord, IamPrincipalRecord, IamStore } from '../iam-port.ts';
import { StoreConflictError, StoreNotFoundError } from '../ports.ts';
import { checkNewAccessKey, checkNewPrincipal, checkPolicyInput, checkPrincipalPatch, checkStatus, checkType } from '../iam-kit.ts';
import { inTransaction } from './pg-transaction.ts';

export const postgresIamSql = (s: string): string => `
  CREATE TABLE ${s}.iam_policies (
    name         text        PRIMARY KEY,
    description  text        NOT NULL,
    document     text        NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
  );

  CREATE TABLE ${s}.iam_principals (
    id          text        PRIMARY KEY,
    type        text        NOT NULL CHECK (type IN ('user', 'role')),
    account_id  text        NOT NULL,
    name        text        NOT NULL,
    path        text        NOT NULL,
    tags        jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT iam_principals_name_key UNIQUE (account_id, type, name)
  );

  CREATE TABLE ${s}.iam_principal_policies (
    principal_id  text    NOT NULL REFERENCES ${s}.iam_principals (id) ON DELETE CASCADE,
    policy_name   text    NOT NULL REFERENCES ${s}.iam_policies (name) ON DELETE RESTRICT,
    position      integer NOT NULL,
    PRIMARY KEY (principal_id, policy_name)
  );
  CREATE INDEX iam_principal_policies_policy ON ${s}.iam_principal_policies (policy_name);

  CREATE TABLE ${s}.iam_access_keys (
    id                  text        PRIMARY KEY,
    principal_id        text        NOT NULL REFERENCES ${s}.iam_principals (id) ON DELETE CASCADE,
    secret_ciphertext   text        NOT NULL,
    status              text        NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at          timestamptz NOT NULL,
    last_used_at        timestamptz,
    expires_at          timestamptz,
    session_token_hash  text
  );
  CREATE INDEX iam_access_keys_principal ON ${s}.iam_access_keys (principal_id);

  CREATE TABLE ${s}.iam_version (
    id       integer PRIMARY KEY CHECK (id = 1),
    version  bigint  NOT NULL
  );
  INSERT INTO ${s}.iam_version (id, version) VALUES (1, 1);
`;

interface PolicyRow { name: string; description: string; document: string; created_at: Date; updated_at: Date }
interface PrincipalRow { id: string; type: 'user' | 'role'; account_id: string; name: string; path: string; tags: Record<string, string>; created_at: Date; updated_at: Date; policies: string[] | null }
interface KeyRow {
  id: string; principal_id: string; secret_ciphertext: string; status: 'active' | 'inactive';
  created_at: Date; last_used_at: Date | null; expires_at: Date | null; session_token_hash: string | null;
}

const iso = (d: Date): string => d.toISOString();
const isoOrNull = (d: Date | null): string | null => (d === null ? null : d.toISOString());
const FOREIGN_KEY = '23503';
const UNIQUE = '23505';

const toPolicy = (r: PolicyRow): IamPolicyRecord => ({ name: r.name, description: r.description, document: r.document, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at) });
const toPrincipal = (r: PrincipalRow): IamPrincipalRecord => ({
  id: r.id, type: r.type, accountId: r.account_id, name: r.name, path: r.path, tags: r.tags, policies: r.policies ?? [],
  createdAt: iso(r.created_at), updatedAt: iso(r.updated_at),
});
const toKey = (r: KeyRow): IamAccessKeyRecord => ({
  id: r.id, principalId: r.principal_id, secretCiphertext: r.secret_ciphertext, status: r.status, createdAt: iso(r.created_at),
  lastUsedAt: isoOrNull(r.last_used_at), expiresAt: isoOrNull(r.expires_at), sessionTokenHash: r.session_token_hash,
});

export function createPostgresIamStore(pool: pg.Pool, s: string, live: () => void): IamStore {
  const P_SELECT = `SELECT p.id, p.type, p.account_id, p.name, p.path, p.tags, p.created_at, p.updated_at,
    (SELECT array_agg(a.policy_name ORDER BY a.position) FROM ${s}.iam_principal_policies a WHERE a.principal_id = p.id) AS policies
    FROM ${s}.iam_principals p`;
  const K_COLS = 'id, principal_id, secret_ciphertext, status, created_at, last_used_at, expires_at, session_token_hash';
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> => {
    live();
    return pool.query<R>(text, values);
  };
  async function tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    live();
    return inTransaction(pool, async (c) => {
      const out = await fn(c);
      await c.query(`UPDATE ${s}.iam_version SET version = version + 1 WHERE id = 1`);
      return out;
    });
  }
  const principal = async (c: pg.ClientBase, id: string) => (await c.query<PrincipalRow>(`${P_SELECT} WHERE p.id = $1`, [id])).rows[0];
  const attach = async (c: pg.ClientBase, id: string, names: readonly string[]) => {
    for (let i = 0; i < names.length; i++) {
      try {
        await c.query(`INSERT INTO ${s}.iam_principal_policies (principal_id, policy_name, position) VALUES ($1, $2, $3)`, [id, names[i], i]);
      } catch (err) {
        if (hasErrorCode(err, [FOREIGN_KEY])) throw new StoreNotFoundError(`policy ${JSON.stringify(names[i])} does not exist`, { cause: err });
        throw err;
      }
    }
  };

  const store: IamStore = {
    async putPolicy(input, at) {
      const p = checkPolicyInput(input);
      const t = normalizeTimestamp(at, 'at');
      return tx(async (c) => {
        const { rows } = await c.query<PolicyRow & { inserted: boolean }>(
          `INSERT INTO ${s}.iam_policies (name, description, document, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
           ON CONFLICT (name) DO UPDATE SET description = excluded.description, document = excluded.document, updated_at = excluded.updated_at
           RETURNING name, description, document, created_at, updated_at, (xmax = 0) AS inserted`,
          [p.name, p.description, p.document, t],
        );
        return { record: toPolicy(rows[0]!), created: rows[0]!.inserted };
      });
    },
    async getPolicy(name) {
      const { rows } = await query<PolicyRow>(`SELECT name, description, document, created_at, updated_at FROM ${s}.iam_policies WHERE name = $1`, [String(name)]);
      return rows[0] ? toPolicy(rows[0]) : undefined;
    },
    async listPolicies() {
      const { rows } = await query<PolicyRow>(`SELECT name, description, document, created_at, updated_at FROM ${s}.iam_policies ORDER BY name COLLATE "C"`);
      return rows.map(toPolicy);
    },
    async deletePolicy(name) {
      try {
        return await tx(async (c) => (await c.query(`DELETE FROM ${s}.iam_policies WHERE name = $1`, [String(name)])).rowCount! > 0);
      } catch (err) {
        if (hasErrorCode(err, [FOREIGN_KEY])) throw new StoreConflictError(`policy ${JSON.stringify(name)} is attached to a principal; detach it first`, { cause: err });
        throw err;
      }
    },
    async createPrincipal(input) {
      const p = checkNewPrincipal(input);
      return tx(async (c) => {
        try {
          await c.query(
            `INSERT INTO ${s}.iam_principals (id, type, account_id, name, path, tags, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
            [p.id, p.type, p.accountId, p.name, p.path, JSON.stringify(p.tags), p.createdAt],
          );
        } catch (err) {
          if (hasErrorCode(err, [UNIQUE])) {
            if ((err as { constraint?: string }).constraint === 'iam_principals_pkey') throw new StoreConflictError(`principal id ${JSON.stringify(p.id)} already exists`, { cause: err });
            throw new StoreConflictError(`a ${p.type} named ${JSON.stringify(p.name)} already exists in account ${p.accountId}`, { cause: err });
          }
          throw err;
        }
        await attach(c, p.id, p.policies);
        return toPrincipal((await principal(c, p.id))!);
      });
    },
    async getPrincipal(id) {
      const { rows } = await query<PrincipalRow>(`${P_SELECT} WHERE p.id = $1`, [String(id)]);
      return rows[0] ? toPrincipal(rows[0]) : undefined;
    },
    async findPrincipal(accountId, type, name) {
      const { rows } = await query<PrincipalRow>(`${P_SELECT} WHERE p.account_id = $1 AND p.type = $2 AND p.name = $3`, [String(accountId), checkType(type), String(name)]);
      return rows[0] ? toPrincipal(rows[0]) : undefined;
    },
    async listPrincipals() {
      const { rows } = await query<PrincipalRow>(`${P_SELECT} ORDER BY p.account_id COLLATE "C", p.type COLLATE "C", p.name COLLATE "C"`);
      return rows.map(toPrincipal);
    },
    async updatePrincipal(id, input, at) {
      const patch = checkPrincipalPatch(input);
      const t = normalizeTimestamp(at, 'at');
      return tx(async (c) => {
        const row = (await c.query<PrincipalRow>(`SELECT id, path, tags FROM ${s}.iam_principals WHERE id = $1 FOR UPDATE`, [String(id)])).rows[0];
        if (!row) throw new StoreNotFoundError(`principal ${JSON.stringify(id)} does not exist`);
        await c.query(`UPDATE ${s}.iam_principals SET path = $1, tags = $2, updated_at = $3 WHERE id = $4`, [
          patch.path ?? row.path, JSON.stringify(patch.tags ?? row.tags), t, row.id,
        ]);
        if (patch.policies) {
          await c.query(`DELETE FROM ${s}.iam_principal_policies WHERE principal_id = $1`, [row.id]);
          await attach(c, row.id, patch.policies);
        }
        return toPrincipal((await principal(c, row.id))!);
      });
    },
    async deletePrincipal(id) {
      return tx(async (c) => (await c.query(`DELETE FROM ${s}.iam_principals WHERE id = $1`, [String(id)])).rowCount! > 0);
    },
    async createAccessKey(input) {
      const k = checkNewAccessKey(input);
      return tx(async (c) => {
        try {
          await c.query(
            `INSERT INTO ${s}.iam_access_keys (${K_COLS}) VALUES ($1, $2, $3, $4, $5, NULL, $6, $7)`,
            [k.id, k.principalId, k.secretCiphertext, k.status, k.createdAt, k.expiresAt, k.sessionTokenHash],
          );
        } catch (err) {
          if (hasErrorCode(err, [UNIQUE])) throw new StoreConflictError(`access key ${JSON.stringify(k.id)} already exists`, { cause: err });
          if (hasErrorCode(err, [FOREIGN_KEY])) throw new StoreNotFoundError(`principal ${JSON.stringify(k.principalId)} does not exist`, { cause: err });
          throw err;
        }
        return toKey((await c.query<KeyRow>(`SELECT ${K_COLS} FROM ${s}.iam_access_keys WHERE id = $1`, [k.id])).rows[0]!);
      });
    },
    async getAccessKey(id) {
      const { rows } = await query<KeyRow>(`SELECT ${K_COLS} FROM ${s}.iam_access_keys WHERE id = $1`, [String(id)]);
      return rows[0] ? toKey(rows[0]) : undefined;
    },
    async listAccessKeys(principalId) {
      const { rows } = principalId === undefined
        ? await query<KeyRow>(`SELECT ${K_COLS} FROM ${s}.iam_access_keys ORDER BY id COLLATE "C"`)
        : await query<KeyRow>(`SELECT ${K_COLS} FROM ${s}.iam_access_keys WHERE principal_id = $1 ORDER BY id COLLATE "C"`, [String(principalId)]);
      return rows.map(toKey);
    },
    async setAccessKeyStatus(id, status) {
      const st = checkStatus(status);
      return tx(async (c) => {
        const { rows } = await c.query<KeyRow>(`UPDATE ${s}.iam_access_keys SET status = $1 WHERE id = $2 RETURNING ${K_COLS}`, [st, String(id)]);
        if (!rows[0]) throw new StoreNotFoundError(`access key ${JSON.stringify(id)} does not exist`);
        return toKey(rows[0]);
      });
    },
    async deleteAccessKey(id) {
      return tx(async (c) => (await c.query(`DELETE FROM ${s}.iam_access_keys WHERE id = $1`, [String(id)])).rowCount! > 0);
    },
    async touchAccessKey(id, at) {
      const t = normalizeTimestamp(at, 'at');
      await query(`UPDATE ${s}.iam_access_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`, [t, String(id)]);
    },
    async version() {
      const { rows } = await query<{ version: string }>(`SELECT version FROM ${s}.iam_version WHERE id = 1`);
      return Number(rows[0]!.version);
    },
  };
  return Object.freeze(store);
}
