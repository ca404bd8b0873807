// Input checks for the API-key sub-port shared by the SQLite and PostgreSQL adapters, so both refuse the
// same bad input with the same message.
import { normalizeTimestamp } from './adapter-kit.ts';
import { StoreConflictError } from './ports.ts';
import type { ApiKeyPatch, NewApiKey, UsageCount, UsageDelta } from './api-keys-port.ts';

export const DAY = /^\d{4}-\d{2}-\d{2}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

export function checkNewApiKey(k: NewApiKey): NewApiKey {
  if (typeof k.id !== 'string' || k.id.length === 0 || k.id.length > 64) throw new TypeError('API key id must be 1-64 characters');
  if (typeof k.hash !== 'string' || !HEX_SHA256.test(k.hash)) throw new TypeError('API key hash must be 64 lower-case hex digits');
  // The store keeps no more of a value than a hint: pck_ and 4 characters at most (keyHint).
  if (typeof k.hint !== 'string' || k.hint.length > MAX_HINT_LENGTH) throw new TypeError(`API key hint must be a string of at most ${MAX_HINT_LENGTH} characters`);
  return Object.freeze({
    id: k.id,
    hash: k.hash,
    hint: k.hint,
    createdAt: normalizeTimestamp(k.createdAt, 'API key createdAt'),
    expiresAt: k.expiresAt === null ? null : normalizeTimestamp(k.expiresAt, 'API key expiresAt'),
    enabled: k.enabled === true,
    ...checkPatch({ name: k.name, description: k.description, customerId: k.customerId, tags: k.tags }),
  } as NewApiKey);
}

export function checkPatch(p: ApiKeyPatch): ApiKeyPatch {
  const out: { -readonly [K in keyof ApiKeyPatch]: ApiKeyPatch[K] } = {};
  if (p.name !== undefined) {
    if (typeof p.name !== 'string' || p.name.length === 0 || p.name.length > 1024) throw new TypeError('API key name must be 1-1024 characters');
    out.name = p.name;
  }
  if (p.description !== undefined) {
    if (typeof p.description !== 'string' || p.description.length > 1024) throw new TypeError('API key description must be at most 1024 characters');
    out.description = p.description;
  }
  if (p.customerId !== undefined) {
    if (p.customerId !== null && (typeof p.customerId !== 'string' || p.customerId.length > 256)) throw new TypeError('API key customerId must be at most 256 characters');
    out.customerId = p.customerId;
  }
  if (p.tags !== undefined) {
    if (typeof p.tags !== 'object' || p.tags === null || Array.isArray(p.tags)) throw new TypeError('API key tags must be an object of strings');
    const entries = Object.entries(p.tags);
    if (entries.length > 50) throw new TypeError('an API key has at most 50 tags');
    for (const [k, v] of entries) {
      if (k.length === 0 || k.length > 128 || typeof v !== 'string' || v.length > 256) throw new TypeError(`API key tag ${JSON.stringify(k)}: names are 1-128 characters, values strings of at most 256`);
    }
    out.tags = Object.freeze({ ...p.tags });
  }
  if (p.enabled !== undefined) {
    if (typeof p.enabled !== 'boolean') throw new TypeError('API key enabled must be a boolean');
    out.enabled = p.enabled;
  }
  if (p.expiresAt !== undefined) out.expiresAt = p.expiresAt === null ? null : normalizeTimestamp(p.expiresAt, 'API key expiresAt');
  return out;
}

const MAX_HINT_LENGTH = 8;

/** The error of a subscription refused because the key holds a plan that excludes it. */
export function exclusiveConflict(keyId: string, plan: string, held: string): StoreConflictError {
  return new StoreConflictError(`API key ${JSON.stringify(keyId)} is in plan ${JSON.stringify(held)}, which covers an API stage of plan ${JSON.stringify(plan)}; a key may be in only one plan per API stage`);
}

export function checkUsageCount(c: UsageCount): UsageCount {
  const { used } = checkUsageDelta(c);
  if (used < 0) throw new TypeError('usage counts must not be negative');
  return { plan: c.plan, keyId: c.keyId, day: c.day, used };
}

export function checkUsageDelta(d: UsageDelta): { plan: string; keyId: string; day: string; used: number; adjust: number } {
  if (typeof d.plan !== 'string' || typeof d.keyId !== 'string') throw new TypeError('usage plan and keyId must be strings');
  if (typeof d.day !== 'string' || !DAY.test(d.day)) throw new TypeError('usage day must be YYYY-MM-DD');
  const adjust = d.adjust ?? 0;
  if (!Number.isSafeInteger(d.used) || !Number.isSafeInteger(adjust)) throw new TypeError('usage counts must be integers');
  return { plan: d.plan, keyId: d.keyId, day: d.day, used: d.used, adjust };
}
