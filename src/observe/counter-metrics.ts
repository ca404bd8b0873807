// Prometheus metrics of the counter store (token buckets and quotas): whether it answers, and how many
// decisions its fail mode answered instead. Read at scrape time from health(): nothing on the request path.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CounterStore } from '../store/counters/ports.ts';
import type { LeaseStats } from '../store/counters/leased-counters.ts';

export function registerCounterMetrics(registry: Registry, counters: CounterStore): void {
  const kind = counters.kind;
  new Gauge({
    name: 'portcullis_counters_up',
    help: 'Whether the counter store (in-process or Redis) answers: 1 yes, 0 no (throttles and quotas follow their fail mode).',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      this.set({ store: kind }, counters.health().ok ? 1 : 0);
    },
  });
  new Counter({
    name: 'portcullis_counters_degraded_decisions_total',
    help: 'Throttle and quota decisions answered by the fail mode because the counter store could not be asked.',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ store: kind }, counters.health().degradedDecisions ?? 0);
    },
  });
  // The approximate mode (leased-counters.ts): how much of the traffic its leases answer without Redis.
  const leased = counters as CounterStore & { stats?: () => LeaseStats };
  if (typeof leased.stats !== 'function') return;
  const stats = () => (leased.stats as () => LeaseStats)();
  const counter = (name: string, help: string, read: (s: LeaseStats) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['store'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ store: kind }, read(stats()));
      },
    });
  counter('portcullis_counters_local_decisions_total', 'Approximate mode: decisions answered from leases held by this node, without a Redis call.', (s) => s.localDecisions);
  counter('portcullis_counters_lease_calls_total', 'Approximate mode: lease calls to Redis (one round trip each).', (s) => s.leaseCalls);
  counter('portcullis_counters_lease_returned_total', 'Approximate mode: unspent leased tokens and quota counts given back at a reconcile.', (s) => s.returned);
  counter('portcullis_counters_lease_lost_total', 'Approximate mode: unspent leased tokens and quota counts dropped (failed give-back, changed limits): fewer admissions, never more.', (s) => s.lost);
}
