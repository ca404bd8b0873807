// The one redaction of audit records: secret-named members, credential-shaped values anywhere, size caps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditElement, redactSecrets, REDACTED, MAX_ELEMENT_BYTES } from './redact.ts';
import { canonicalJson } from './canonical-json.ts';

test('secret members are redacted whatever their depth; records named like secrets are kept', () => {
  const out = redactSecrets({
    token: { id: 'tok_1', name: 'ci', hash: 'ab'.repeat(32) },
    value: 'pcat_whatever',
    key: { id: 'k1', name: 'partner' },
    apiKey: 'custom-key-value-1234567890',
    nested: [{ clientSecret: 'x', password: 'p', privateKey: { k: 1 }, authorization: 'Basic abc' }],
    values: ['a', 'b'],
    secretAccessKey: 'AKIA...',
    hint: 'pck_abcd',
    name: 'keep me',
  }) as any;
  assert.deepEqual(out.token, { id: 'tok_1', name: 'ci', hash: REDACTED });
  assert.equal(out.value, REDACTED);
  assert.deepEqual(out.key, { id: 'k1', name: 'partner' });
  assert.equal(out.apiKey, REDACTED);
  assert.deepEqual(out.nested[0], { clientSecret: REDACTED, password: REDACTED, privateKey: REDACTED, authorization: REDACTED });
  assert.deepEqual(out.values, [REDACTED, REDACTED]);
  assert.equal(out.secretAccessKey, REDACTED);
  assert.equal(out.hint, 'pck_abcd', 'a hint is a short public prefix');
  assert.equal(out.name, 'keep me');
});

test('credential-shaped values are redacted inside any string', () => {
  const out = redactSecrets({ comment: 'rotated pcat_abcdefghijklmnop and pck_ABCDEFGHIJKLMNOPQRST; Bearer xyz.abc' }) as any;
  assert.equal(out.comment, `rotated ${REDACTED} and ${REDACTED}; ${REDACTED}`);
});

test('elements over 100 KB are replaced by their size; null stays null', () => {
  assert.equal(auditElement(undefined), null);
  assert.equal(auditElement(null), null);
  const big = auditElement({ blob: 'x'.repeat(MAX_ELEMENT_BYTES) }) as any;
  assert.equal(big.truncated, true);
  assert.ok(big.sizeBytes > MAX_ELEMENT_BYTES);
});

test('canonical JSON sorts keys at every level and drops undefined', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ s: 'é"\n' }), JSON.stringify({ s: 'é"\n' }));
});
