// Key values: generated shape and checksum (a typo is caught without a lookup), AWS import rules, keyed hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checksum62, crc32, createKeyHasher, generateKeyValue, GENERATED_KEY_LENGTH, importProblem, keyShape, loadKeyHashSecret, keyHint } from './key-values.ts';

test('crc32 matches the standard check value', () => {
  assert.equal(crc32('123456789'), 0xcbf43926);
  assert.equal(checksum62('').length, 6);
});

test('generated values: pck_ prefix, 42 characters, valid checksum; any single-character typo is caught', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const v = generateKeyValue();
    assert.match(v, /^pck_[0-9A-Za-z]{38}$/);
    assert.equal(v.length, GENERATED_KEY_LENGTH);
    assert.equal(keyShape(v), 'generated');
    seen.add(v);
  }
  assert.equal(seen.size, 200);
  const v = generateKeyValue();
  for (let i = 4; i < v.length; i++) {
    const typo = v.slice(0, i) + (v[i] === 'a' ? 'b' : 'a') + v.slice(i + 1);
    assert.equal(keyShape(typo), 'invalid', `typo at ${i}`);
  }
});

test('imported values: 20-128 letters and digits (AWS)', () => {
  assert.equal(importProblem('a'.repeat(20)), undefined);
  assert.equal(importProblem('a'.repeat(128)), undefined);
  assert.match(importProblem('a'.repeat(19))!, /20 to 128/);
  assert.match(importProblem('a'.repeat(129))!, /20 to 128/);
  assert.match(importProblem('a'.repeat(20) + '-')!, /letters and digits/);
  assert.match(importProblem('pck_' + 'a'.repeat(38))!, /checksum/);
  assert.equal(importProblem(generateKeyValue()), undefined);
  assert.equal(keyShape('a'.repeat(19)), 'invalid');
  assert.equal(keyShape('a'.repeat(40)), 'imported');
});

test('the keyed hash depends on the secret; the secret comes from env or is generated once', async () => {
  const a = createKeyHasher('s'.repeat(32));
  const b = createKeyHasher('t'.repeat(32));
  assert.match(a.hash('x'), /^[0-9a-f]{64}$/);
  assert.notEqual(a.hash('x'), b.hash('x'));
  assert.throws(() => createKeyHasher('short'), /at least 32/);
  const stored = new Map<string, string>();
  const meta = { async setIfAbsent(k: string, v: string) { if (!stored.has(k)) stored.set(k, v); return stored.get(k)!; } };
  const first = await loadKeyHashSecret({}, meta);
  assert.equal(await loadKeyHashSecret({}, meta), first);
  assert.equal(await loadKeyHashSecret({ PORTCULLIS_KEY_HASH_SECRET: 'e'.repeat(40) }, meta), 'e'.repeat(40));
  await assert.rejects(loadKeyHashSecret({ PORTCULLIS_KEY_HASH_SECRET: 'short' }, meta), /at least 32/);
});

test('the hint keeps at most 4 characters of the secret part: pck_ and 4 of a generated value, 4 of an imported one', () => {
  const generated = generateKeyValue();
  assert.equal(keyHint(generated), generated.slice(0, 8));
  assert.equal(keyHint('abcdefghij0123456789XYZ'), 'abcd');
  assert.equal(keyHint('A'.repeat(128)), 'AAAA');
});
