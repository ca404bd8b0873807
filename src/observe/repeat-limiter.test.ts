import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../core/clock.ts';
import { limitRepeats } from './repeat-limiter.ts';

test('a message is reported at once, its repeats at most once per interval with the count held back; others apart', () => {
  const clock = createFakeClock(0);
  const lines: string[] = [];
  const report = limitRepeats((m) => lines.push(m), { clock, intervalMs: 10_000 });
  report('key A over quota');
  for (let i = 0; i < 500; i++) report('key A over quota');
  report('key B over quota');
  assert.deepEqual(lines, ['key A over quota', 'key B over quota']);
  clock.advance(9_999);
  report('key A over quota');
  assert.equal(lines.length, 2, 'still inside the interval');
  clock.advance(1);
  report('key A over quota');
  assert.deepEqual(lines.slice(2), ['key A over quota (501 more like it in the last 10 s)']);
  clock.advance(10_000);
  report('key A over quota');
  assert.deepEqual(lines.slice(3), ['key A over quota'], 'nothing was held back this time');
});
