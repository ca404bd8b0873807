// Copies the usage records Redis keeps (counted with the decisions themselves, so a gateway node that dies loses
// none) to the Store, where GetUsage reads them. Every second, one node at a time (the ledger's lease): the
// records that changed since their last copy, in batches, as whole counts the Store only ever raises to. A copy
// that fails, or a node that dies between copying and confirming, leaves the records marked for the next round.
import type { ApiKeyStore } from '../store/api-keys-port.ts';
import type { UsageLedger } from '../store/counters/ports.ts';

export interface UsageSync {
  /** Copies what changed now (waits for a round in progress first); resolves when done or when another node copies. */
  syncNow(): Promise<void>;
  /** Stops the timer after a last round. */
  close(): Promise<void>;
}

export interface UsageSyncOptions {
  readonly ledger: UsageLedger;
  readonly store: Pick<ApiKeyStore, 'raiseUsage'>;
  readonly intervalMs?: number;
  /** Records per batch (one Redis call, one Store transaction and one Redis call each). */
  readonly batch?: number;
  /** Batches per round at most: a round ends even while records keep changing faster than it copies them. */
  readonly maxBatches?: number;
  readonly onError?: (err: unknown) => void;
}

export function startUsageSync(options: UsageSyncOptions): UsageSync {
  const { ledger, store, intervalMs = 1000, batch = 5000, maxBatches = 20, onError = () => {} } = options;
  let running: Promise<void> = Promise.resolve();
  let busy = false;

  const round = async (): Promise<void> => {
    for (let i = 0; i < maxBatches; i++) {
      const counts = await ledger.changed(batch);
      if (counts === undefined || counts.length === 0) return;
      await store.raiseUsage(counts);
      await ledger.confirm(counts);
      if (counts.length < batch) return;
    }
  };
  const run = (): Promise<void> => {
    busy = true;
    running = running.then(round).catch(onError).finally(() => (busy = false));
    return running;
  };
  // A round slower than the interval is not queued behind by the timer.
  const timer = setInterval(() => void (busy || run()), intervalMs);
  timer.unref();

  return {
    syncNow: run,
    async close() {
      clearInterval(timer);
      await run();
    },
  };
}
