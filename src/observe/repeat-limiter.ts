// Repeats of one message at most once per interval: a report-only usage plan hit by every request of a busy key
// writes one line per key and interval, not one per request. The first occurrence is reported at once; repeats
// inside the interval are counted, and the next report after it says how many were held back.
import type { Clock } from '../core/clock.ts';

/** Distinct messages remembered at most; past it the memory starts over (a burst of new messages is reported). */
const MAX_MESSAGES = 10_000;

export function limitRepeats(report: (message: string) => void, options: { clock: Clock; intervalMs?: number }): (message: string) => void {
  const { clock, intervalMs = 10_000 } = options;
  const seen = new Map<string, { lastMs: number; held: number }>();
  return (message) => {
    const now = clock.now();
    const entry = seen.get(message);
    if (entry !== undefined && now - entry.lastMs < intervalMs) {
      entry.held++;
      return;
    }
    if (entry === undefined && seen.size >= MAX_MESSAGES) seen.clear();
    const held = entry?.held ?? 0;
    seen.set(message, { lastMs: now, held: 0 });
    report(held > 0 ? `${message} (${held} more like it in the last ${Math.round((now - entry!.lastMs) / 1000)} s)` : message);
  };
}
