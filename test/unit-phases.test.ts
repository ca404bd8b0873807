// Pins the order of the request lifecycle: changing it must be a deliberate, reviewed change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PHASES, STAGE_PHASES } from '../src/gateway/pipeline/phases.ts';

test('the lifecycle phases are in the documented order', () => {
  assert.deepEqual(PHASES, [
    'connection', 'request', 'route', 'resource-policy', 'authenticate', 'authorize',
    'api-key', 'throttle', 'validate', 'integration', 'log',
  ]);
});

test('stage phases keep lifecycle order', () => {
  const idx = STAGE_PHASES.map((p) => PHASES.indexOf(p));
  assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
});
