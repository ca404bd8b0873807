// HSTS header values from the settings (settings.hsts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HstsSchema } from '../config/tls-schema.ts';
import { hstsValue } from './transport.ts';

test('Strict-Transport-Security: one year by default; includeSubDomains and preload when asked; nothing when disabled', () => {
  assert.equal(hstsValue(HstsSchema.parse(undefined)), 'max-age=31536000');
  assert.equal(hstsValue(HstsSchema.parse({ maxAge: 63_072_000, includeSubDomains: true, preload: true })), 'max-age=63072000; includeSubDomains; preload');
  assert.equal(hstsValue(HstsSchema.parse({ enabled: false })), '');
  assert.throws(() => HstsSchema.parse({ maxAge: -1 }));
});
