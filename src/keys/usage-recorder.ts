// Daily usage records: accepted requests per plan, key and UTC day are summed in memory on the request path
// and flushed every second (a kill -9 loses at most that second): to the Store with in-process counters, where
// the quota counts are rebuilt from these records at start, so quotas survive restarts; to Redis's usage ledger
// with Redis counters, for the requests its decisions did not count themselves (usage-sync.ts copies the ledger
// to the Store).
import type { Clock } from '../core/clock.ts';
import type { Definition } from '../config/schema.ts';
import type { ApiKeyStore, UsageDelta } from '../store/api-keys-port.ts';
import type { CounterStore } from '../store/counters/ports.ts';
import type { UsageRecorder } from '../gateway/stages/throttle/throttle-deps.ts';
import { planKeys, type UsageIdentity } from '../gateway/stages/api-key/schema.ts';
import { utcDay, windowEnd, windowStart } from './quota-window.ts';

export interface FlushingUsageRecorder extends UsageRecorder {
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface UsageRecorderOptions {
  /** Adds counts where they are kept (the Store's addUsage, or the counter store's usage ledger). */
  readonly write: (deltas: readonly UsageDelta[]) => Promise<void>;
  readonly intervalMs?: number;
  readonly onError?: (err: unknown) => void;
}

export function createUsageRecorder(options: UsageRecorderOptions): FlushingUsageRecorder {
  const { write, intervalMs = 1000, onError = () => {} } = options;
  // Counted per usage identity (one object per key and plan, memoised by the api-key stage): no string
  // building per request. All counts belong to `day`; a new day flushes the old one first.
  let pending = new Map<UsageIdentity, number>();
  let day = '';
  let dayEnd = 0;
  let dayStart = 0;
  let flushing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (pending.size === 0) return flushing;
    const batch = pending;
    const batchDay = day;
    pending = new Map();
    const deltas: UsageDelta[] = [];
    for (const [u, used] of batch) deltas.push({ plan: u.plan.name, keyId: u.keyId, day: batchDay, used });
    flushing = flushing.then(() =>
      write(deltas).catch((err: unknown) => {
        // Retried with the next flush instead of being lost (as extra rows for that day).
        retry.push(...deltas);
        onError(err);
      }),
    );
    return flushing;
  };
  const retry: UsageDelta[] = [];
  const tick = () => {
    if (retry.length) {
      const again = retry.splice(0);
      flushing = flushing.then(() => write(again).catch((err: unknown) => (retry.push(...again), onError(err))));
    }
    void flush();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();

  return {
    count(usage, nowMs) {
      if (nowMs >= dayEnd || nowMs < dayStart) {
        void flush();
        dayStart = windowStart('DAY', nowMs);
        dayEnd = windowEnd('DAY', nowMs);
        day = utcDay(nowMs);
      }
      pending.set(usage, (pending.get(usage) ?? 0) + 1);
    },
    flush,
    async close() {
      clearInterval(timer);
      tick();
      await flushing;
    },
  };
}

/** In-process counters start empty: set each key's quota count from the usage records of the live window. */
export async function restoreQuotas(definition: Definition, store: ApiKeyStore, counters: CounterStore, clock: Clock): Promise<number> {
  const now = clock.now();
  let restored = 0;
  for (const plan of definition.usagePlans) {
    if (!plan.quota) continue;
    const rows = await store.usage({ plan: plan.name, fromDay: utcDay(windowStart(plan.quota.period, now)), toDay: utcDay(now) });
    const sums = new Map<string, number>();
    for (const r of rows) sums.set(r.keyId, (sums.get(r.keyId) ?? 0) + r.used + r.adjust);
    const end = windowEnd(plan.quota.period, now);
    for (const [keyId, used] of sums) {
      await counters.setQuota(planKeys.quota(plan.name, keyId), Math.max(0, used), end, now);
      restored++;
    }
  }
  return restored;
}
