// The api-key stage (phase 'api-key', reference section 3): for routes with apiKeyRequired, reads the key
// (x-api-key header or the authorizer's usageIdentifierKey), checks its shape and checksum, looks its keyed
// hash up in the in-memory directory, and requires a subscription to a plan covering this API stage.
import type { Clock } from '../../../core/clock.ts';
import { deny, type Denial } from '../../../core/denial.ts';
import { KEY_HASH_PREFIX_LENGTH, keyShape, type KeyHasher } from '../../../keys/key-values.ts';
import { compactHash, type KeyDirectory } from '../../../keys/key-directory.ts';
import type { RouteBuild, StageFactory, StageFn } from '../../pipeline/stage.ts';
import { USAGE_EXTENSION, USAGE_IDENTIFIER_EXTENSION, plansForRoute, type RoutePlan, type UsageIdentity } from './schema.ts';
import { usageRecordId } from '../../../store/counters/ports.ts';

export interface ApiKeyDeps {
  readonly clock: Clock;
  /** Absent when the node runs without API keys (tests of other stages): every key is then unknown. */
  readonly keys?: { readonly directory: KeyDirectory; readonly hasher: KeyHasher };
}

const denied = (detail: string): Denial => deny('INVALID_API_KEY', { detail: `api key: ${detail}` });
const MISSING = denied('missing');
const MALFORMED = denied('malformed value (wrong length, characters or checksum)');
const UNKNOWN = denied('unknown key');
const DISABLED = denied('key is disabled');
const EXPIRED = denied('key has expired');
const ROTATED = denied('rotated-out value past its grace period');

/**
 * Value -> keyed hash for recently seen well-formed values: the HMAC and checksum are the costliest part of
 * the stage. Bounded (cleared when full); it holds values that are in this process's memory anyway.
 */
const HASH_CACHE_SIZE = 10_000;
/** A value's keyed hash as the directory looks it up, and the hex prefix logs show. */
interface HashedValue {
  readonly hex: string;
  readonly compact: string;
  readonly logPrefix: string;
}
const hashCaches = new WeakMap<KeyHasher, Map<string, HashedValue>>();

export const apiKeyStage: StageFactory<ApiKeyDeps> = Object.freeze({
  name: 'api-key',
  phase: 'api-key' as const,
  create(build: RouteBuild<ApiKeyDeps>): StageFn | null {
    // AWS: keys are not authentication; without apiKeyRequired the key is ignored (no plan, no quota).
    if (!build.route.apiKeyRequired) return null;
    const { clock, keys } = build.deps;
    const plans = plansForRoute(build.definition, build.api.name, build.apiId, build.stageName, build.route.method, build.route.path);
    const fromAuthorizer = build.api.apiKeySource === 'AUTHORIZER';
    const notSubscribed = denied(`key is in no usage plan covering ${build.api.name}/${build.stageName}`);
    let cache: Map<string, HashedValue> | undefined;
    if (keys) {
      cache = hashCaches.get(keys.hasher);
      if (!cache) hashCaches.set(keys.hasher, (cache = new Map()));
    }
    const hashOf = (raw: string): HashedValue | undefined => {
      let hashed = cache!.get(raw);
      if (hashed === undefined) {
        if (keyShape(raw) === 'invalid') return undefined;
        const hex = keys!.hasher.hash(raw);
        hashed = { hex, compact: compactHash(hex), logPrefix: hex.slice(0, KEY_HASH_PREFIX_LENGTH) };
        if (cache!.size >= HASH_CACHE_SIZE) cache!.clear();
        cache!.set(raw, hashed);
      }
      return hashed;
    };
    return function apiKey(ctx) {
      const raw = fromAuthorizer ? ctx.extensions[USAGE_IDENTIFIER_EXTENSION] : ctx.req.headers['x-api-key'];
      if (typeof raw !== 'string' || raw === '') return MISSING;
      if (!keys) return keyShape(raw) === 'invalid' ? MALFORMED : UNKNOWN;
      const hashed = hashOf(raw);
      if (hashed === undefined) return MALFORMED;
      const dir = keys.directory;
      const hit = dir.lookupCompact !== undefined ? dir.lookupCompact(hashed.compact) : dir.lookup(hashed.hex);
      if (!hit) return UNKNOWN;
      const key = hit.key;
      if (!key.enabled) return DISABLED;
      const now = clock.now();
      if (now >= key.expiresAtMs) return EXPIRED;
      if (now >= hit.untilMs) return ROTATED;
      ctx.identity.apiKeyId = key.id;
      ctx.identity.apiKey = hashed.logPrefix;
      // AWS allows one plan per key and API stage, so the first match is the only one.
      for (const [name, since] of key.plans) {
        const plan = plans.get(name);
        if (plan) {
          const memo = (key.memo ??= new Map());
          let usage = memo.get(plan) as UsageIdentity | undefined;
          if (usage === undefined) memo.set(plan, (usage = identity(plan, key.id, since)));
          ctx.extensions[USAGE_EXTENSION] = usage;
          return undefined;
        }
      }
      return notSubscribed;
    };
  },
});

function identity(plan: RoutePlan, keyId: string, subscribedAtMs: number): UsageIdentity {
  return { plan, keyId, subscribedAtMs, usageRecord: usageRecordId(plan.name, keyId), specs: new WeakMap() };
}
