// Counter-store settings from the environment: defaults (throttles and quotas fail open), explicit modes,
// and bad values refused with the variable's name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterSettingsFromEnv, describeFailModes } from './counter-settings.ts';

test('defaults: both fail open, no prefix or timeout override', () => {
  assert.deepEqual(counterSettingsFromEnv({}), { failMode: 'open', quotaFailMode: 'open', mode: 'exact' });
  assert.equal(describeFailModes(counterSettingsFromEnv({})), 'throttles fail open, quotas fail open');
});

test('explicit modes, prefix and timeout', () => {
  const s = counterSettingsFromEnv({
    PORTCULLIS_COUNTERS_FAIL_MODE: 'closed',
    PORTCULLIS_COUNTERS_QUOTA_FAIL_MODE: ' Closed ',
    PORTCULLIS_COUNTERS_PREFIX: 'gw1:',
    PORTCULLIS_COUNTERS_TIMEOUT_MS: '250',
  });
  assert.deepEqual(s, { prefix: 'gw1:', commandTimeoutMs: 250, failMode: 'closed', quotaFailMode: 'closed', mode: 'exact' });
  assert.equal(describeFailModes(s), 'throttles fail closed, quotas fail closed');
});

test('bad values name the variable', () => {
  assert.throws(() => counterSettingsFromEnv({ PORTCULLIS_COUNTERS_QUOTA_FAIL_MODE: 'shut' }), /^Error: PORTCULLIS_COUNTERS_QUOTA_FAIL_MODE: expected "open" or "closed", got "shut"$/);
  assert.throws(() => counterSettingsFromEnv({ PORTCULLIS_COUNTERS_FAIL_MODE: 'yes' }), /PORTCULLIS_COUNTERS_FAIL_MODE/);
  assert.throws(() => counterSettingsFromEnv({ PORTCULLIS_COUNTERS_TIMEOUT_MS: '-5' }), /PORTCULLIS_COUNTERS_TIMEOUT_MS: expected a positive whole number/);
  assert.throws(() => counterSettingsFromEnv({ PORTCULLIS_COUNTERS_TIMEOUT_MS: '1.5' }), /PORTCULLIS_COUNTERS_TIMEOUT_MS/);
});

test('approximate mode with its lease size and reconcile interval', () => {
  const s = counterSettingsFromEnv({
    PORTCULLIS_COUNTERS_MODE: 'Approximate',
    PORTCULLIS_COUNTERS_LEASE_MAX: '20',
    PORTCULLIS_COUNTERS_RECONCILE_MS: '500',
  });
  assert.deepEqual(s, { failMode: 'open', quotaFailMode: 'open', mode: 'approximate', maxLease: 20, reconcileIntervalMs: 500 });
  assert.throws(() => counterSettingsFromEnv({ PORTCULLIS_COUNTERS_MODE: 'fast' }), /^Error: PORTCULLIS_COUNTERS_MODE: expected "exact" or "approximate", got "fast"$/);
  assert.throws(() => counterSettingsFromEnv({ PORTCULLIS_COUNTERS_LEASE_MAX: '0' }), /PORTCULLIS_COUNTERS_LEASE_MAX: expected a positive whole number of tokens/);
  assert.throws(() => counterSettingsFromEnv({ PORTCULLIS_COUNTERS_RECONCILE_MS: 'soon' }), /PORTCULLIS_COUNTERS_RECONCILE_MS/);
});
