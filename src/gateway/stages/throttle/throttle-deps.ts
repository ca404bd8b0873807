// What the throttle stage and the plan throttle share (stage.ts and plan-throttle.ts both import it; it imports
// neither): their dependencies, the labelled buckets, and how a refusal becomes AWS's 429.
import type { Clock } from '../../../core/clock.ts';
import { deny, type Denial } from '../../../core/denial.ts';
import type { BucketDecision, BucketSpec, CounterStore } from '../../../store/counters/ports.ts';
import type { UsageIdentity } from '../api-key/schema.ts';

export interface UsageRecorder {
  /** One accepted request under the key's plan at nowMs. */
  count(usage: UsageIdentity, nowMs: number): void;
}

export interface ThrottleDeps {
  readonly counters: CounterStore;
  readonly clock: Clock;
  /** Counts accepted requests of keys in usage plans (daily usage records). */
  readonly usage?: UsageRecorder;
  /** Told what a report-only usage plan would have refused. */
  readonly onReportOnly?: (message: string) => void;
}

/** A bucket with the words its refusal is logged with. */
export interface LabelledBucket {
  readonly spec: BucketSpec;
  readonly label: string;
}

const STORE_CLOSED_DETAIL = 'throttle: counter store unavailable, failing closed';

export function toDenial(d: BucketDecision, buckets: readonly LabelledBucket[]): Denial {
  const retry = d.retryAfterMs;
  const waitText = Number.isFinite(retry) ? `retry in ${retry} ms` : 'never refills';
  const detail = d.deniedBy >= 0 ? `${buckets[d.deniedBy].label} is empty; ${waitText}` : STORE_CLOSED_DETAIL;
  // Retry-After on every 429: whole seconds (RFC 9110 10.2.3), rounded up; a bucket that never refills
  // (rateLimit 0) says a day, the longest wait this gateway announces.
  const seconds = Number.isFinite(retry) ? Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(retry / 1000))) : MAX_RETRY_AFTER_S;
  return deny('THROTTLED', { detail, headers: { 'Retry-After': String(seconds) } });
}

/** The longest Retry-After a throttle refusal carries (a bucket that never refills). */
export const MAX_RETRY_AFTER_S = 86_400;

