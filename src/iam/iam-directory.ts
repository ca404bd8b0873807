// The data plane's view of IAM: every principal (with its compiled identity policies and tags) and every access
// key (secret opened once, at load) in memory, rebuilt on an 'entities' change or when the polled version moves.
// The request path never reads the store; last-used times are written back in batches.
import type { Clock } from '../core/clock.ts';
import { parsePolicy, type CompiledPolicy } from '../security/iam/index.ts';
import type { IamPrincipalRecord, IamStore } from '../store/iam-port.ts';
import type { ChangeNotifier } from '../store/ports.ts';
import type { IamCaller } from '../gateway/pipeline/caller-identity.ts';
import type { SecretBox } from './secret-box.ts';

export interface DirectoryAccessKey {
  readonly id: string;
  readonly secret: string;
  readonly active: boolean;
  /** Infinity for long-term keys. */
  readonly expiresAtMs: number;
  /** Temporary credentials: hex SHA-256 of the session token. */
  readonly sessionTokenHash: string | null;
  readonly caller: IamCaller;
  readonly policies: readonly CompiledPolicy[];
}

/** A principal by its IAM ARN (auth: mtls maps a client certificate to one; docs/https.md). */
export interface DirectoryPrincipal {
  readonly record: IamPrincipalRecord;
  readonly policies: readonly CompiledPolicy[];
}

export interface IamDirectory {
  accessKey(id: string): DirectoryAccessKey | undefined;
  /** arn:aws:iam::<account>:user<path><name> or ...:role<path><name>. */
  principal(arn: string): DirectoryPrincipal | undefined;
  /** Notes that a key was used; flushed to the store in the background. */
  recordUse(id: string, atMs: number): void;
  readonly size: number;
  reload(): Promise<void>;
  close(): Promise<void>;
}

export interface IamDirectoryOptions {
  readonly store: IamStore;
  readonly changes?: ChangeNotifier;
  readonly box: SecretBox;
  readonly clock: Clock;
  readonly pollIntervalMs?: number;
  readonly onError?: (err: unknown) => void;
}

/** The caller a key signs as: users are themselves; a role's key signs as an assumed-role session named after the key. */
export function callerOf(p: IamPrincipalRecord, accessKeyId: string): IamCaller {
  const tags = new Map(Object.entries(p.tags).map(([k, v]) => [k.toLowerCase(), v]));
  if (p.type === 'user') {
    return Object.freeze({ arn: `arn:aws:iam::${p.accountId}:user${p.path}${p.name}`, accountId: p.accountId, type: 'User', username: p.name, userid: p.id, tags, accessKeyId });
  }
  return Object.freeze({ arn: `arn:aws:sts::${p.accountId}:assumed-role/${p.name}/${accessKeyId}`, accountId: p.accountId, type: 'AssumedRole', userid: `${p.id}:${accessKeyId}`, tags, accessKeyId });
}

/**
 * The caller a client certificate acts as (auth: mtls): a user is itself; a role is an assumed-role session
 * named after the certificate's serial number, as IAM Roles Anywhere names its sessions.
 */
export function certificateCallerOf(p: IamPrincipalRecord, serialHex: string): IamCaller {
  const tags = new Map(Object.entries(p.tags).map(([k, v]) => [k.toLowerCase(), v]));
  if (p.type === 'user') {
    return Object.freeze({ arn: `arn:aws:iam::${p.accountId}:user${p.path}${p.name}`, accountId: p.accountId, type: 'User', username: p.name, userid: p.id, tags });
  }
  return Object.freeze({ arn: `arn:aws:sts::${p.accountId}:assumed-role/${p.name}/${serialHex}`, accountId: p.accountId, type: 'AssumedRole', userid: `${p.id}:${serialHex}`, tags });
}

export async function createIamDirectory({ store, changes, box, clock: _clock, pollIntervalMs = 1000, onError = () => {} }: IamDirectoryOptions): Promise<IamDirectory> {
  let keys = new Map<string, DirectoryAccessKey>();
  let principalsByArn = new Map<string, DirectoryPrincipal>();
  let version = -1;
  let closed = false;
  const uses = new Map<string, number>();

  async function loadAll(): Promise<void> {
    const v = await store.version();
    const [policies, principals, accessKeys] = await Promise.all([store.listPolicies(), store.listPrincipals(), store.listAccessKeys()]);
    const compiled = new Map<string, CompiledPolicy>();
    for (const p of policies) {
      const r = parsePolicy(p.document, { kind: 'identity', policyId: p.name });
      // Documents were validated before they were stored; one that no longer parses grants nothing.
      if (r.ok) compiled.set(p.name, r.policy);
      else onError(new Error(`IAM policy ${p.name} no longer parses: ${r.problems[0]?.message}`));
    }
    const byId = new Map(principals.map((p) => [p.id, p]));
    const byArn = new Map<string, DirectoryPrincipal>();
    for (const p of principals) {
      byArn.set(`arn:aws:iam::${p.accountId}:${p.type}${p.path}${p.name}`, Object.freeze({
        record: p,
        policies: p.policies.map((n) => compiled.get(n)).filter((x): x is CompiledPolicy => x !== undefined),
      }));
    }
    const next = new Map<string, DirectoryAccessKey>();
    for (const k of accessKeys) {
      const p = byId.get(k.principalId);
      if (!p) continue;
      let secret: string;
      try {
        secret = box.open(k.secretCiphertext, k.id);
      } catch (err) {
        onError(new Error(`access key ${k.id}: cannot open its secret (${(err as Error).message})`));
        continue;
      }
      next.set(k.id, Object.freeze({
        id: k.id, secret, active: k.status === 'active',
        expiresAtMs: k.expiresAt === null ? Infinity : Date.parse(k.expiresAt),
        sessionTokenHash: k.sessionTokenHash,
        caller: callerOf(p, k.id),
        policies: p.policies.map((n) => compiled.get(n)).filter((x): x is CompiledPolicy => x !== undefined),
      }));
    }
    keys = next;
    principalsByArn = byArn;
    version = v;
  }
  let loading: Promise<void> | undefined;
  const reload = (): Promise<void> => (loading ??= loadAll().finally(() => (loading = undefined)));
  await reload();

  let unsubscribe: (() => Promise<void>) | undefined;
  if (changes) {
    unsubscribe = await changes.subscribe('entities', (payload) => {
      if (payload.includes('"iam"')) reload().catch(onError);
    });
  }
  async function flush(): Promise<void> {
    if (uses.size === 0) return;
    const batch = [...uses];
    uses.clear();
    for (const [id, ms] of batch) await store.touchAccessKey(id, new Date(ms).toISOString());
  }
  const timer = setInterval(() => {
    if (closed) return;
    flush().catch(onError);
    if (loading) return;
    store.version().then((v) => (v !== version ? reload() : undefined)).catch(onError);
  }, pollIntervalMs);
  timer.unref();

  return {
    accessKey: (id) => keys.get(id),
    principal: (arn) => principalsByArn.get(arn),
    recordUse(id, atMs) {
      const prev = uses.get(id);
      if (prev === undefined || prev < atMs) uses.set(id, atMs);
    },
    get size() {
      return keys.size;
    },
    reload,
    async close() {
      closed = true;
      clearInterval(timer);
      await unsubscribe?.();
      await flush().catch(onError);
    },
  };
}
