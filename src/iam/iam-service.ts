// IAM operations behind the admin API and CLI: identity policies (validated by the policy engine before they
// are stored), users and roles with tags and attachments, and access keys whose secret is shown once and
// stored sealed. Every change is published on the 'entities' channel so every node's directory refreshes.
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { ControlError } from '../control/control-errors.ts';
import { parsePolicy, type Problem } from '../security/iam/index.ts';
import type { AccessKeyStatus, IamAccessKeyRecord, IamPolicyRecord, IamPrincipalPatch, IamPrincipalRecord, PrincipalType } from '../store/iam-port.ts';
import { StoreConflictError, StoreNotFoundError, type Store } from '../store/ports.ts';
import type { SecretBox } from './secret-box.ts';

/** Payload on the 'entities' channel: the IAM directory reloads on it. */
export const IAM_CHANGE_PAYLOAD = JSON.stringify({ kind: 'iam' });

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function randomId(prefix: string): string {
  const b = randomBytes(16);
  let s = prefix;
  for (let i = 0; i < 16; i++) s += BASE32[b[i]! & 31];
  return s;
}
/** 40 characters like AWS secret access keys (base64 alphabet). */
const newSecret = (): string => randomBytes(30).toString('base64');

export class PolicyValidationError extends ControlError {
  constructor(readonly problems: readonly Problem[]) {
    super('INVALID_INPUT', `the policy is not valid:\n${problems.map((p) => `  ${p.path || '(document)'}: ${p.message}`).join('\n')}`);
  }
}

/** An access key as shown by the admin API: never the secret, never its ciphertext. */
export interface PublicAccessKey {
  readonly accessKeyId: string;
  readonly principalId: string;
  readonly status: AccessKeyStatus;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly expiresAt: string | null;
}

/** What AWS STS returns in `Credentials`, plus the caller the credentials act as. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: string;
  readonly principalId: string;
}

export const SESSION_DURATION = { min: 900, max: 43_200, default: 3600 } as const;

export interface PublicPrincipal extends IamPrincipalRecord {
  readonly arn: string;
}

export function principalArn(p: Pick<IamPrincipalRecord, 'type' | 'accountId' | 'path' | 'name'>): string {
  return `arn:aws:iam::${p.accountId}:${p.type}${p.path}${p.name}`;
}

const publicKey = (k: IamAccessKeyRecord): PublicAccessKey => ({
  accessKeyId: k.id, principalId: k.principalId, status: k.status, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, expiresAt: k.expiresAt,
});
const publicPrincipal = (p: IamPrincipalRecord): PublicPrincipal => ({ ...p, arn: principalArn(p) });

export interface IamService {
  putPolicy(input: { name: string; description?: string; document: unknown }): Promise<{ policy: IamPolicyRecord; created: boolean }>;
  getPolicy(name: string): Promise<IamPolicyRecord>;
  listPolicies(): Promise<IamPolicyRecord[]>;
  deletePolicy(name: string): Promise<void>;
  createPrincipal(input: { type: PrincipalType; name: string; accountId?: string; path?: string; tags?: Record<string, string>; policies?: string[] }): Promise<PublicPrincipal>;
  getPrincipal(idOrArn: string): Promise<PublicPrincipal>;
  listPrincipals(): Promise<PublicPrincipal[]>;
  updatePrincipal(idOrArn: string, patch: IamPrincipalPatch): Promise<PublicPrincipal>;
  deletePrincipal(idOrArn: string): Promise<void>;
  createAccessKey(principal: string): Promise<PublicAccessKey & { secretAccessKey: string }>;
  /**
   * STS-like temporary credentials (ASIA... key, secret, session token) valid for durationSeconds (900 to
   * 43,200, default 3,600), verified on the request path like AWS session credentials. Shown once.
   */
  createSessionCredentials(principal: string, durationSeconds?: number): Promise<SessionCredentials>;
  listAccessKeys(principal?: string): Promise<PublicAccessKey[]>;
  setAccessKeyStatus(id: string, status: AccessKeyStatus): Promise<PublicAccessKey>;
  deleteAccessKey(id: string): Promise<void>;
  /** Master-key rotation: re-seals every secret sealed under a retired key. Returns how many. */
  resealSecrets(): Promise<number>;
}

export function createIamService({ store, clock, box, defaultAccountId = () => '123456789012' }: {
  store: Store; clock: Clock; box: SecretBox;
  /** The account of principals created without one: the deployed definition's settings.accountId. */
  defaultAccountId?: () => string;
}): IamService {
  const now = () => new Date(clock.now()).toISOString();
  const changed = () => store.changes.publish('entities', IAM_CHANGE_PAYLOAD);
  const translate = (err: unknown): never => {
    if (err instanceof StoreNotFoundError) throw new ControlError('NOT_FOUND', err.message, { cause: err });
    if (err instanceof StoreConflictError) throw new ControlError('CONFLICT', err.message, { cause: err });
    if (err instanceof TypeError) throw new ControlError('INVALID_INPUT', err.message, { cause: err });
    throw err;
  };
  async function resolve(idOrArn: string): Promise<IamPrincipalRecord> {
    let p: IamPrincipalRecord | undefined;
    const m = /^arn:aws:iam::(\d{12}):(user|role)\/(?:.*\/)?([^/]+)$/.exec(idOrArn);
    if (m) p = await store.iam.findPrincipal(m[1]!, m[2] as PrincipalType, m[3]!);
    else p = await store.iam.getPrincipal(idOrArn);
    if (!p) throw new ControlError('NOT_FOUND', `principal ${JSON.stringify(idOrArn)} does not exist`);
    return p;
  }
  return {
    async putPolicy({ name, description = '', document }) {
      const parsed = parsePolicy(document, { kind: 'identity', policyId: name });
      if (!parsed.ok) throw new PolicyValidationError(parsed.problems);
      const text = JSON.stringify(typeof document === 'string' ? JSON.parse(document) : document);
      const r = await store.iam.putPolicy({ name, description, document: text }, now()).catch(translate);
      await changed();
      return { policy: r.record, created: r.created };
    },
    async getPolicy(name) {
      const p = await store.iam.getPolicy(name);
      if (!p) throw new ControlError('NOT_FOUND', `policy ${JSON.stringify(name)} does not exist`);
      return p;
    },
    listPolicies: () => store.iam.listPolicies(),
    async deletePolicy(name) {
      if (!(await store.iam.deletePolicy(name).catch(translate))) throw new ControlError('NOT_FOUND', `policy ${JSON.stringify(name)} does not exist`);
      await changed();
    },
    async createPrincipal(input) {
      const type = input.type;
      if (type !== 'user' && type !== 'role') throw new ControlError('INVALID_INPUT', 'type must be user or role');
      const p = await store.iam.createPrincipal({
        id: randomId(type === 'user' ? 'AIDA' : 'AROA'), type, accountId: input.accountId ?? defaultAccountId(), name: input.name,
        path: input.path ?? '/', tags: input.tags ?? {}, policies: input.policies ?? [], createdAt: now(),
      }).catch(translate);
      await changed();
      return publicPrincipal(p);
    },
    getPrincipal: async (idOrArn) => publicPrincipal(await resolve(idOrArn)),
    listPrincipals: async () => (await store.iam.listPrincipals()).map(publicPrincipal),
    async updatePrincipal(idOrArn, patch) {
      const p = await resolve(idOrArn);
      const r = await store.iam.updatePrincipal(p.id, patch, now()).catch(translate);
      await changed();
      return publicPrincipal(r);
    },
    async deletePrincipal(idOrArn) {
      const p = await resolve(idOrArn);
      await store.iam.deletePrincipal(p.id);
      await changed();
    },
    async createAccessKey(principal) {
      const p = await resolve(principal);
      const id = randomId('AKIA');
      const secret = newSecret();
      const k = await store.iam.createAccessKey({
        id, principalId: p.id, secretCiphertext: box.seal(secret, id), status: 'active', createdAt: now(), expiresAt: null, sessionTokenHash: null,
      }).catch(translate);
      await changed();
      return { ...publicKey(k), secretAccessKey: secret };
    },
    async createSessionCredentials(principal, durationSeconds = SESSION_DURATION.default) {
      if (!Number.isSafeInteger(durationSeconds) || durationSeconds < SESSION_DURATION.min || durationSeconds > SESSION_DURATION.max) {
        throw new ControlError('INVALID_INPUT', `durationSeconds must be an integer from ${SESSION_DURATION.min} to ${SESSION_DURATION.max} (as AWS STS allows)`);
      }
      const p = await resolve(principal);
      // Expired session credentials of this principal are removed here, so they do not pile up in the store.
      for (const k of await store.iam.listAccessKeys(p.id)) {
        if (k.expiresAt !== null && Date.parse(k.expiresAt) <= clock.now()) await store.iam.deleteAccessKey(k.id);
      }
      const id = randomId('ASIA');
      const secret = newSecret();
      // Only a hash of the session token is stored: like the secret of an API key, it is shown once.
      const sessionToken = randomBytes(48).toString('base64');
      const expiration = new Date(clock.now() + durationSeconds * 1000).toISOString();
      await store.iam.createAccessKey({
        id, principalId: p.id, secretCiphertext: box.seal(secret, id), status: 'active', createdAt: now(), expiresAt: expiration,
        sessionTokenHash: createHash('sha256').update(sessionToken).digest('hex'),
      }).catch(translate);
      await changed();
      return { accessKeyId: id, secretAccessKey: secret, sessionToken, expiration, principalId: p.id };
    },
    async listAccessKeys(principal) {
      const id = principal === undefined ? undefined : (await resolve(principal)).id;
      return (await store.iam.listAccessKeys(id)).map(publicKey);
    },
    async setAccessKeyStatus(id, status) {
      if (status !== 'active' && status !== 'inactive') throw new ControlError('INVALID_INPUT', 'status must be active or inactive');
      const k = await store.iam.setAccessKeyStatus(id, status).catch(translate);
      await changed();
      return publicKey(k);
    },
    async deleteAccessKey(id) {
      if (!(await store.iam.deleteAccessKey(id))) throw new ControlError('NOT_FOUND', `access key ${JSON.stringify(id)} does not exist`);
      await changed();
    },
    async resealSecrets() {
      // Keys are re-created under the same id with the re-sealed secret: the store has no update for secrets,
      // so rotation is delete + create in sequence per key (status and dates are kept).
      let n = 0;
      for (const k of await store.iam.listAccessKeys()) {
        if (!box.isStale(k.secretCiphertext)) continue;
        const plain = box.open(k.secretCiphertext, k.id);
        await store.iam.deleteAccessKey(k.id);
        await store.iam.createAccessKey({ ...k, secretCiphertext: box.seal(plain, k.id) });
        if (k.lastUsedAt !== null) await store.iam.touchAccessKey(k.id, k.lastUsedAt);
        n++;
      }
      if (n) await changed();
      return n;
    },
  };
}
