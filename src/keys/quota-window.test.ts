// Quota windows on UTC calendar boundaries and AWS's first-period offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveLimit, utcDay, windowEnd, windowStart } from './quota-window.ts';

const at = (s: string) => Date.parse(s);

test('DAY, WEEK (Monday start) and MONTH windows in UTC', () => {
  const t = at('2026-11-26T15:30:00Z'); // a Thursday
  assert.equal(windowStart('DAY', t), at('2026-11-26T00:00:00Z'));
  assert.equal(windowEnd('DAY', t), at('2026-11-27T00:00:00Z'));
  assert.equal(windowStart('WEEK', t), at('2026-11-23T00:00:00Z'));
  assert.equal(windowEnd('WEEK', t), at('2026-11-30T00:00:00Z'));
  assert.equal(windowStart('WEEK', at('2026-11-29T23:59:59Z')), at('2026-11-23T00:00:00Z'), 'Sunday belongs to the week that began Monday');
  assert.equal(windowStart('WEEK', at('2026-11-30T00:00:00Z')), at('2026-11-30T00:00:00Z'));
  assert.equal(windowStart('MONTH', t), at('2026-11-01T00:00:00Z'));
  assert.equal(windowEnd('MONTH', at('2026-12-31T23:00:00Z')), at('2027-01-01T00:00:00Z'));
  assert.equal(windowEnd('MONTH', at('2028-02-10T00:00:00Z')), at('2028-03-01T00:00:00Z'));
  assert.equal(utcDay(t), '2026-11-26');
});

test('offset is taken off the limit in the period the subscription began, only', () => {
  const q = { limit: 100, period: 'MONTH' as const, offset: 30 };
  const sub = at('2026-11-10T00:00:00Z');
  assert.equal(effectiveLimit(q, sub, at('2026-11-20T00:00:00Z')), 70);
  assert.equal(effectiveLimit(q, sub, at('2026-12-01T00:00:00Z')), 100);
  assert.equal(effectiveLimit({ ...q, offset: 0 }, sub, at('2026-11-20T00:00:00Z')), 100);
});
