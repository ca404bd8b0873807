// Input checks shared by both IAM store adapters: names, ids, paths, tags and timestamps are refused with a
// TypeError before any SQL runs, so SQLite and PostgreSQL accept and store exactly the same values.
import { normalizeTimestamp } from './adapter-kit.ts';
import type { AccessKeyStatus, IamPrincipalPatch, NewIamAccessKey, NewIamPrincipal, PrincipalType } from './iam-port.ts';

export const POLICY_NAME = /^[A-Za-z0-9+=,.@_-]{1,128}$/;
export const PRINCIPAL_NAME = /^[A-Za-z0-9+=,.@_-]{1,64}$/;
export const PRINCIPAL_ID = /^A(IDA|ROA)[A-Z0-9]{12,28}$/;
export const ACCESS_KEY_ID = /^A(KIA|SIA)[A-Z0-9]{12,28}$/;
/** IAM paths: "/" or "/seg/seg/" (printable ASCII without "/" inside a segment). */
export const IAM_PATH = /^\/(?:[\x21-\x2e\x30-\x7e]+\/)*$/;
export const ACCOUNT_ID = /^\d{12}$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const MAX_TAGS = 50;
const MAX_POLICIES = 20;
const MAX_DOCUMENT = 131_072;

function need(ok: boolean, message: string): void {
  if (!ok) throw new TypeError(message);
}

export function checkPolicyInput(p: { name: string; description: string; document: string }): { name: string; description: string; document: string } {
  need(typeof p.name === 'string' && POLICY_NAME.test(p.name), `policy name must be 1-128 of A-Z a-z 0-9 +=,.@_-, got ${JSON.stringify(p.name)}`);
  need(typeof p.description === 'string' && p.description.length <= 1000, 'policy description must be a string of at most 1000 characters');
  need(typeof p.document === 'string' && p.document.length > 0 && p.document.length <= MAX_DOCUMENT, `policy document must be JSON text of at most ${MAX_DOCUMENT} characters`);
  return { name: p.name, description: p.description, document: p.document };
}

export function checkTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  need(typeof tags === 'object' && tags !== null && !Array.isArray(tags), 'tags must be an object of string values');
  const entries = Object.entries(tags);
  need(entries.length <= MAX_TAGS, `a principal has at most ${MAX_TAGS} tags`);
  const seen = new Set<string>();
  for (const [k, v] of entries) {
    need(TAG_KEY.test(k) && !k.toLowerCase().startsWith('aws:'), `tag key ${JSON.stringify(k)} must be 1-128 letters, digits, spaces or _.:/=+-@ and not start with aws:`);
    need(typeof v === 'string' && v.length <= 256, `tag ${JSON.stringify(k)} must have a string value of at most 256 characters`);
    // Tag keys are case-insensitive in conditions (aws:PrincipalTag/Team = aws:PrincipalTag/team).
    need(!seen.has(k.toLowerCase()), `tag keys differ only in case: ${JSON.stringify(k)}`);
    seen.add(k.toLowerCase());
  }
  return Object.fromEntries(entries);
}

export function checkPolicyNames(names: readonly string[]): string[] {
  need(Array.isArray(names) && names.length <= MAX_POLICIES, `a principal has at most ${MAX_POLICIES} attached policies`);
  for (const n of names) need(typeof n === 'string' && POLICY_NAME.test(n), `policy name ${JSON.stringify(n)} is not valid`);
  need(new Set(names).size === names.length, 'a policy is attached twice');
  return [...names];
}

export function checkNewPrincipal(p: NewIamPrincipal): NewIamPrincipal {
  need(PRINCIPAL_ID.test(p.id), `principal id ${JSON.stringify(p.id)} must look like AIDA... or AROA...`);
  need(p.type === 'user' || p.type === 'role', 'principal type must be user or role');
  need(p.id.startsWith(p.type === 'user' ? 'AIDA' : 'AROA'), 'user ids start with AIDA, role ids with AROA');
  need(typeof p.accountId === 'string' && ACCOUNT_ID.test(p.accountId), 'accountId must be 12 digits');
  need(typeof p.name === 'string' && PRINCIPAL_NAME.test(p.name), `principal name must be 1-64 of A-Z a-z 0-9 +=,.@_-, got ${JSON.stringify(p.name)}`);
  need(typeof p.path === 'string' && p.path.length <= 512 && IAM_PATH.test(p.path), `path must be "/" or "/a/b/", got ${JSON.stringify(p.path)}`);
  return {
    ...p,
    tags: checkTags(p.tags),
    policies: checkPolicyNames(p.policies),
    createdAt: normalizeTimestamp(p.createdAt, 'createdAt'),
  };
}

export function checkPrincipalPatch(patch: IamPrincipalPatch): IamPrincipalPatch {
  if (patch.path !== undefined) need(typeof patch.path === 'string' && IAM_PATH.test(patch.path), `path must be "/" or "/a/b/", got ${JSON.stringify(patch.path)}`);
  return {
    ...(patch.path !== undefined ? { path: patch.path } : {}),
    ...(patch.tags !== undefined ? { tags: checkTags(patch.tags) } : {}),
    ...(patch.policies !== undefined ? { policies: checkPolicyNames(patch.policies) } : {}),
  };
}

export function checkStatus(status: AccessKeyStatus): AccessKeyStatus {
  need(status === 'active' || status === 'inactive', 'status must be active or inactive');
  return status;
}

export function checkNewAccessKey(k: NewIamAccessKey): NewIamAccessKey {
  need(ACCESS_KEY_ID.test(k.id), `access key id ${JSON.stringify(k.id)} must look like AKIA... or ASIA...`);
  need(PRINCIPAL_ID.test(k.principalId), 'principalId must be a principal id');
  need(typeof k.secretCiphertext === 'string' && k.secretCiphertext.length > 0 && k.secretCiphertext.length <= 1024, 'secretCiphertext must be a non-empty string');
  need(k.sessionTokenHash === null || /^[0-9a-f]{64}$/.test(k.sessionTokenHash), 'sessionTokenHash must be hex SHA-256 or null');
  return {
    ...k,
    status: checkStatus(k.status),
    createdAt: normalizeTimestamp(k.createdAt, 'createdAt'),
    expiresAt: k.expiresAt === null ? null : normalizeTimestamp(k.expiresAt, 'expiresAt'),
  };
}

export function checkType(type: PrincipalType): PrincipalType {
  need(type === 'user' || type === 'role', 'principal type must be user or role');
  return type;
}
