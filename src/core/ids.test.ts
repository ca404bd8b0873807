// Request ids: the extended id is the base64 of a 5-byte prefix and a 48-bit counter, built without a
// Buffer; checked against Buffer's own base64 across the counter's byte boundaries and its wrap.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { createExtendedIdGenerator, extendedId, isUuid, newRequestId } from './ids.ts';

function viaBuffer(prefix: Uint8Array, counter: number): string {
  const buf = Buffer.alloc(11);
  buf.set(prefix, 0);
  buf.writeUIntBE(counter, 5, 6);
  return buf.toString('base64');
}

test('extendedId equals the base64 of prefix + counter for any prefix and counter', () => {
  const edges = [0, 1, 255, 256, 0xffff, 0x10000, 0xffffff, 0x1000000, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 48 - 1];
  for (const counter of edges) {
    const prefix = randomBytes(5);
    assert.equal(extendedId(prefix, counter), viaBuffer(prefix, counter), `counter ${counter}`);
  }
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 5, maxLength: 5 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), (prefix, counter) => {
      assert.equal(extendedId(prefix, counter), viaBuffer(prefix, counter));
    }),
    { numRuns: 2000 },
  );
});

test('the generator counts up under one prefix, so ids are unique and 16 characters', () => {
  const prefix = Uint8Array.of(1, 2, 3, 4, 5);
  const next = createExtendedIdGenerator(prefix);
  const seen = new Set<string>();
  for (let i = 1; i <= 1000; i++) {
    const id = next();
    assert.equal(id, viaBuffer(prefix, i));
    assert.equal(id.length, 16);
    seen.add(id);
  }
  assert.equal(seen.size, 1000);
});

test('request ids are random version 4 UUIDs, lower-case, unique across pool refills', () => {
  const seen = new Set<string>();
  const nibbles = new Map<number, Set<string>>();
  for (let i = 0; i < 5000; i++) {
    const id = newRequestId();
    assert.ok(isUuid(id), id);
    assert.equal(id, id.toLowerCase());
    assert.equal(id[14], '4', 'version 4');
    assert.ok('89ab'.includes(id[19]), `variant 10xx: ${id}`);
    seen.add(id);
    for (const at of [0, 9, 15, 20, 35]) {
      if (!nibbles.has(at)) nibbles.set(at, new Set());
      nibbles.get(at)!.add(id[at]);
    }
  }
  assert.equal(seen.size, 5000);
  for (const [at, values] of nibbles) assert.equal(values.size, 16, `position ${at} takes every hex digit`);
  assert.ok(!isUuid('not-a-uuid'));
});
