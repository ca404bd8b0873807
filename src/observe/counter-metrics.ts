// Prometheus metrics of the counter store (token buckets and quotas): whether it answers, and how many
// decisions its fail mode answered instead. Read at scrape time from health(): nothing on the request path.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CounterStore } from '../store/counters/ports.ts';

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
}
