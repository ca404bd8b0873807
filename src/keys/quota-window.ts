// Quota periods on UTC calendar boundaries (reference section 4.4): DAY from 00:00 UTC, WEEK from Monday
// 00:00 UTC (ISO 8601 weeks; AWS does not document its week start), MONTH from the 1st at 00:00 UTC.
export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH';

const DAY_MS = 86_400_000;

export function windowStart(period: QuotaPeriod, nowMs: number): number {
  const d = new Date(nowMs);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'DAY') return midnight;
  if (period === 'WEEK') return midnight - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function windowEnd(period: QuotaPeriod, nowMs: number): number {
  const start = windowStart(period, nowMs);
  if (period === 'DAY') return start + DAY_MS;
  if (period === 'WEEK') return start + 7 * DAY_MS;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** YYYY-MM-DD of the UTC day holding nowMs. */
export function utcDay(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/**
 * The limit for the window holding nowMs: AWS's `offset` is subtracted in the first period only, which for
 * a key is the period its subscription began in.
 */
export function effectiveLimit(quota: { limit: number; period: QuotaPeriod; offset: number }, subscribedAtMs: number, nowMs: number): number {
  if (quota.offset === 0) return quota.limit;
  return subscribedAtMs >= windowStart(quota.period, nowMs) ? Math.max(0, quota.limit - quota.offset) : quota.limit;
}
