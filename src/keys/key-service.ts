// API-key operations behind the admin API and CLI: create/import (value shown once, only its keyed hash
// stored), enable/disable/update/delete/rotate, CSV import and metadata export, plan subscriptions (one plan
// per key and API stage), and AWS GetUsage/UpdateUsage. Every change is published so all nodes refresh.
import type { Clock } from '../core/clock.ts';
import { ControlError } from '../control/control-errors.ts';
import type { Definition } from '../config/schema.ts';
import type { UsagePlan } from '../config/usage-plan-schema.ts';
import type { ApiKeyPatch, ApiKeyRecord, ImportedKey, SubscriptionRecord } from '../store/api-keys-port.ts';
import { StoreConflictError, StoreNotFoundError, type Store } from '../store/ports.ts';
import type { CounterStore } from '../store/counters/ports.ts';
import { planKeys } from '../gateway/stages/api-key/schema.ts';
import { csvField, parseKeyCsv, type CsvProblem } from './csv.ts';
import { keyChangePayload } from './key-directory.ts';
import { generateKeyId, generateKeyValue, importProblem, keyHint, type KeyHasher } from './key-values.ts';
import { effectiveLimit, utcDay, windowEnd, windowStart } from './quota-window.ts';

/** What the admin API shows of a key: never the hash, never the value. */
export interface PublicKey
  extends Pick<ApiKeyRecord, 'id' | 'name' | 'description' | 'customerId' | 'tags' | 'enabled' | 'createdAt' | 'updatedAt' | 'expiresAt' | 'hint'> {
  readonly rotatedValueValidUntil: string | null;
  readonly plans?: readonly string[];
}

export interface CreateKeyInput {
  name: string;
  description?: string;
  customerId?: string | null;
  tags?: Record<string, string>;
  enabled?: boolean;
  expiresAt?: string | null;
  plans?: readonly string[];
  /** An imported value (20-128 alphanumerics); absent: one is generated. */
  value?: string;
}

/** Rows checked (validated and hashed) so far, then the write of all keys in one transaction. */
export interface ImportProgress {
  readonly phase: 'checking' | 'writing';
  readonly done: number;
  readonly total: number;
}

/** How often (in rows) an import reports progress and lets the event loop turn. */
export const IMPORT_PROGRESS_STEP = 5_000;

export interface ImportReport {
  readonly created: number;
  readonly updated: number;
  readonly problems: readonly CsvProblem[];
}

export interface UsageReport {
  readonly usagePlanId: string;
  readonly startDate: string;
  readonly endDate: string;
  readonly position: null;
  readonly values: Record<string, Array<[number, number | null]>>;
}

export interface KeyServiceOptions {
  readonly store: Store;
  readonly hasher: KeyHasher;
  readonly clock: Clock;
  readonly counters: CounterStore;
  /** The deployed definition (plans live there). */
  readonly definition: () => Definition | undefined;
  /** Brings the Store's usage records up to date first (Redis counters keep them until the syncer copies them). */
  readonly syncUsage?: () => Promise<void>;
}

export type KeyService = ReturnType<typeof createKeyService>;

const DAY_TEXT = /^\d{4}-\d{2}-\d{2}$/;
const MAX_USAGE_DAYS = 366;

export function publicKey(k: ApiKeyRecord, plans?: readonly string[]): PublicKey {
  const now = Date.now();
  return {
    id: k.id,
    name: k.name,
    description: k.description,
    customerId: k.customerId,
    tags: k.tags,
    enabled: k.enabled,
    createdAt: k.createdAt,
    updatedAt: k.updatedAt,
    expiresAt: k.expiresAt,
    hint: k.hint,
    rotatedValueValidUntil: k.previousHashUntil !== null && Date.parse(k.previousHashUntil) > now ? k.previousHashUntil : null,
    ...(plans ? { plans } : {}),
  };
}

export function createKeyService({ store, hasher, clock, counters, definition, syncUsage }: KeyServiceOptions) {
  const keys = store.apiKeys;
  const iso = () => new Date(clock.now()).toISOString();
  const changed = (id: string) => store.changes.publish('entities', keyChangePayload(id));
  const invalid = (msg: string) => new ControlError('INVALID_INPUT', msg);

  const plansOf = (): readonly UsagePlan[] => definition()?.usagePlans ?? [];
  const plan = (name: string): UsagePlan => {
    const p = plansOf().find((x) => x.name === name);
    if (!p) {
      const known = plansOf().map((x) => x.name);
      throw new ControlError('NOT_FOUND', `no usage plan is named ${JSON.stringify(name)} in the deployed definition${known.length ? ` (plans: ${known.join(', ')})` : ' (it defines none)'}`);
    }
    return p;
  };
  const stagesOf = (p: UsagePlan) => p.apiStages.map((s) => `${s.api}/${s.stage}`);

  /** AWS: a key may be in several plans but in only one for any API stage. */
  function checkPlanSet(names: readonly string[], what: string): void {
    const owner = new Map<string, string>();
    for (const name of names) {
      for (const s of stagesOf(plan(name))) {
        const other = owner.get(s);
        if (other !== undefined && other !== name) {
          throw new ControlError('CONFLICT', `${what} would be in plans ${JSON.stringify(other)} and ${JSON.stringify(name)}, which both cover API stage ${s}; a key may be in only one plan per API stage`);
        }
        owner.set(s, name);
      }
    }
  }

  const checkExpiry = (v: string | null | undefined): string | null => {
    if (v === undefined || v === null) return null;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw invalid(`expiresAt must be an ISO 8601 time, got ${JSON.stringify(v)}`);
    return new Date(ms).toISOString();
  };

  async function must(id: string): Promise<ApiKeyRecord> {
    const k = await keys.get(id);
    if (!k) throw new ControlError('NOT_FOUND', `API key ${JSON.stringify(id)} does not exist`);
    return k;
  }

  const storeErrors = async <T>(p: Promise<T>): Promise<T> => {
    try {
      return await p;
    } catch (err) {
      if (err instanceof StoreConflictError) throw new ControlError('CONFLICT', err.message, { cause: err });
      if (err instanceof StoreNotFoundError) throw new ControlError('NOT_FOUND', err.message, { cause: err });
      if (err instanceof TypeError || err instanceof RangeError) throw invalid(err.message);
      throw err;
    }
  };

  return {
    async create(input: CreateKeyInput): Promise<{ key: PublicKey; value: string }> {
      if (typeof input.name !== 'string' || input.name.length === 0) throw invalid('name is required');
      const plans = [...new Set(input.plans ?? [])];
      checkPlanSet(plans, 'the key');
      let value = input.value;
      if (value !== undefined) {
        const problem = importProblem(value);
        if (problem) throw invalid(problem);
      } else value = generateKeyValue();
      const record = await storeErrors(
        keys.create(
          {
            id: generateKeyId(),
            name: input.name,
            description: input.description ?? '',
            customerId: input.customerId ?? null,
            tags: input.tags ?? {},
            enabled: input.enabled ?? true,
            createdAt: iso(),
            expiresAt: checkExpiry(input.expiresAt),
            hash: hasher.hash(value),
            hint: keyHint(value),
          },
          plans,
        ),
      );
      await changed(record.id);
      return { key: publicKey(record, plans), value };
    },

    async list(options: { limit?: number; after?: string } = {}): Promise<PublicKey[]> {
      const [list, subs] = await Promise.all([keys.list(options), keys.subscriptions()]);
      const byKey = new Map<string, string[]>();
      for (const s of subs) (byKey.get(s.keyId) ?? byKey.set(s.keyId, []).get(s.keyId)!).push(s.plan);
      return list.map((k) => publicKey(k, byKey.get(k.id) ?? []));
    },

    async get(id: string): Promise<PublicKey> {
      const k = await must(id);
      return publicKey(k, (await keys.subscriptions({ keyId: id })).map((s) => s.plan));
    },

    async update(id: string, patch: ApiKeyPatch): Promise<PublicKey> {
      const p = { ...patch, ...(patch.expiresAt !== undefined ? { expiresAt: checkExpiry(patch.expiresAt) } : {}) };
      const k = await storeErrors(keys.update(id, p, iso()));
      await changed(id);
      return publicKey(k);
    },

    async remove(id: string): Promise<void> {
      if (!(await keys.delete(id))) throw new ControlError('NOT_FOUND', `API key ${JSON.stringify(id)} does not exist`);
      await changed(id);
    },

    /** A new value; the old one keeps working for graceSeconds (0: stops at once). */
    async rotate(id: string, graceSeconds: number): Promise<{ key: PublicKey; value: string }> {
      if (!Number.isSafeInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > 90 * 86_400) throw invalid('graceSeconds must be an integer from 0 to 7776000 (90 days)');
      await must(id);
      const value = generateKeyValue();
      const until = graceSeconds === 0 ? null : new Date(clock.now() + graceSeconds * 1000).toISOString();
      const k = await storeErrors(keys.rotate(id, { hash: hasher.hash(value), hint: keyHint(value), until }, iso()));
      await changed(id);
      return { key: publicKey(k), value };
    },

    /**
     * AWS CSV import, all or nothing: any problem (bad row, duplicate value, unknown plan, two plans for one
     * API stage) is reported by row and nothing is stored.
     */
    async importCsv(text: string, onProgress?: (progress: ImportProgress) => void): Promise<ImportReport> {
      const { rows, problems } = parseKeyCsv(text);
      const out = [...problems];
      const seen = new Map<string, number>();
      const known = new Set(plansOf().map((p) => p.name));
      const now = iso();
      const batch: ImportedKey[] = [];
      for (const r of rows) {
        const problem = importProblem(r.value);
        if (problem) {
          out.push({ row: r.row, message: `Key: ${problem}` });
          continue;
        }
        if (r.name.length > 1024) out.push({ row: r.row, message: 'Name is longer than 1024 characters' });
        const hash = hasher.hash(r.value);
        const dup = seen.get(hash);
        if (dup !== undefined) out.push({ row: r.row, message: `the same Key value as row ${dup}` });
        seen.set(hash, r.row);
        const unknown = r.plans.filter((p) => !known.has(p));
        if (unknown.length) out.push({ row: r.row, message: `UsagePlanIds names unknown plans: ${unknown.join(', ')}` });
        else {
          try {
            checkPlanSet(r.plans, 'this key');
          } catch (err) {
            out.push({ row: r.row, message: (err as Error).message });
          }
        }
        batch.push({
          key: { id: generateKeyId(), name: r.name, description: r.description, customerId: null, tags: {}, enabled: r.enabled, createdAt: now, expiresAt: null, hash, hint: keyHint(r.value) },
          plans: r.plans,
        });
        if (batch.length % IMPORT_PROGRESS_STEP === 0) {
          onProgress?.({ phase: 'checking', done: batch.length, total: rows.length });
          // A turn of the event loop: the node keeps serving, and progress can be asked for, while it checks.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      if (out.length) return { created: 0, updated: 0, problems: out.sort((a, b) => a.row - b.row) };
      onProgress?.({ phase: 'writing', done: 0, total: batch.length });
      const res = await storeErrors(keys.importMany(batch, now));
      await store.changes.publish('entities', JSON.stringify({ kind: 'api-keys' }));
      return { ...res, problems: [] };
    },

    /** Metadata only (AWS columns minus Key, plus id and hint): values are never stored, so never exported. */
    async exportCsv(): Promise<string> {
      const list = await this.list();
      const lines = ['Id,Name,Description,Enabled,UsagePlanIds,CustomerId,Hint,CreatedAt,ExpiresAt'];
      for (const k of list) {
        lines.push(
          [k.id, k.name, k.description, String(k.enabled), (k.plans ?? []).join(','), k.customerId ?? '', k.hint, k.createdAt, k.expiresAt ?? '']
            .map(csvField)
            .join(','),
        );
      }
      return lines.join('\n') + '\n';
    },

    plans(): Array<{ name: string; description: string; apiStages: string[]; throttle: unknown; quota: unknown; reportOnly: boolean }> {
      return plansOf().map((p) => ({ name: p.name, description: p.description ?? '', apiStages: stagesOf(p), throttle: p.throttle ?? null, quota: p.quota ?? null, reportOnly: p.reportOnly }));
    },

    async subscribe(keyId: string, planName: string): Promise<SubscriptionRecord> {
      plan(planName);
      await must(keyId);
      const current = (await keys.subscriptions({ keyId })).map((s) => s.plan).filter((p) => plansOf().some((x) => x.name === p));
      checkPlanSet([...current.filter((p) => p !== planName), planName], `key ${keyId}`);
      // Checked again by the store in the subscribing transaction: a concurrent subscription may have won meanwhile.
      const stages = new Set(stagesOf(plan(planName)));
      const exclusive = plansOf().filter((p) => p.name !== planName && stagesOf(p).some((s) => stages.has(s))).map((p) => p.name);
      const sub = await storeErrors(keys.subscribe(keyId, planName, iso(), exclusive));
      await changed(keyId);
      return sub;
    },

    async unsubscribe(keyId: string, planName: string): Promise<void> {
      if (!(await keys.unsubscribe(keyId, planName))) throw new ControlError('NOT_FOUND', `key ${JSON.stringify(keyId)} is not subscribed to plan ${JSON.stringify(planName)}`);
      await changed(keyId);
    },

    subscriptions: (filter: { keyId?: string; plan?: string }) => keys.subscriptions(filter),

    /** AWS GetUsage: per key, one [used, remaining] per day from startDate to endDate (remaining null without a quota). */
    async usage(planName: string, startDate: string, endDate: string, keyId?: string): Promise<UsageReport> {
      const p = plan(planName);
      if (!DAY_TEXT.test(startDate) || !DAY_TEXT.test(endDate) || Number.isNaN(Date.parse(startDate)) || Number.isNaN(Date.parse(endDate))) {
        throw invalid('startDate and endDate are YYYY-MM-DD');
      }
      const from = Date.parse(startDate);
      const to = Date.parse(endDate);
      if (to < from) throw invalid('endDate is before startDate');
      const days = Math.round((to - from) / 86_400_000) + 1;
      if (days > MAX_USAGE_DAYS) throw invalid(`at most ${MAX_USAGE_DAYS} days at once`);
      const readFrom = p.quota ? Math.min(from, windowStart(p.quota.period, from)) : from;
      await syncUsage?.();
      const rows = await keys.usage({ plan: planName, fromDay: utcDay(readFrom), toDay: endDate, keyId });
      const subs = await keys.subscriptions({ plan: planName, ...(keyId ? { keyId } : {}) });
      const since = new Map(subs.map((s) => [s.keyId, Date.parse(s.createdAt)]));
      const byKey = new Map<string, Map<string, { used: number; adjust: number }>>();
      for (const s of subs) byKey.set(s.keyId, new Map());
      if (keyId) byKey.set(keyId, byKey.get(keyId) ?? new Map());
      for (const r of rows) (byKey.get(r.keyId) ?? byKey.set(r.keyId, new Map()).get(r.keyId)!).set(r.day, { used: r.used, adjust: r.adjust });
      const values: UsageReport['values'] = {};
      for (const [id, perDay] of byKey) {
        const out: Array<[number, number | null]> = [];
        let windowUsed = 0;
        let windowEndMs = -Infinity;
        for (let t = readFrom; t <= to; t += 86_400_000) {
          const d = perDay.get(utcDay(t)) ?? { used: 0, adjust: 0 };
          if (p.quota && t >= windowEndMs) {
            windowUsed = 0;
            windowEndMs = windowEnd(p.quota.period, t);
          }
          windowUsed += d.used + d.adjust;
          if (t < from) continue;
          const remaining = p.quota ? Math.max(0, effectiveLimit(p.quota, since.get(id) ?? 0, t) - windowUsed) : null;
          out.push([d.used, remaining]);
        }
        values[id] = out;
      }
      return { usagePlanId: planName, startDate, endDate, position: null, values };
    },

    /** AWS UpdateUsage "replace /remaining": sets what the key has left in the current quota period. */
    async updateUsage(planName: string, keyId: string, remaining: number): Promise<UsageReport> {
      const p = plan(planName);
      if (!p.quota) throw invalid(`plan ${JSON.stringify(planName)} has no quota`);
      if (!Number.isSafeInteger(remaining) || remaining < 0) throw invalid('remaining must be a non-negative integer');
      const sub = (await keys.subscriptions({ keyId, plan: planName }))[0];
      if (!sub) throw new ControlError('NOT_FOUND', `key ${JSON.stringify(keyId)} is not subscribed to plan ${JSON.stringify(planName)}`);
      const now = clock.now();
      const limit = effectiveLimit(p.quota, Date.parse(sub.createdAt), now);
      const target = Math.max(0, limit - remaining);
      const qkey = planKeys.quota(planName, keyId);
      const current = await counters.getQuota(qkey, now);
      await counters.setQuota(qkey, target, windowEnd(p.quota.period, now), now);
      // Kept as an adjustment so reports and a restarted single node see the same remaining quota.
      await keys.addUsage([{ plan: planName, keyId, day: utcDay(now), used: 0, adjust: target - current }]);
      const today = utcDay(now);
      return this.usage(planName, today, today, keyId);
    },
  };
}
