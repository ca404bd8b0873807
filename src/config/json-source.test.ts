// The JSON scanner must accept exactly what JSON.parse accepts, and place paths where they are written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readJson } from './json-source.ts';

test('accepts every JSON text JSON.parse accepts, with the same value', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(undefined, 1, '\t'), (value, indent) => {
      const text = JSON.stringify(value, null, indent);
      const result = readJson(text);
      // JSON.stringify never writes a key twice, so nothing here is a duplicate.
      assert.ok(result.ok, text);
      assert.deepEqual(result.value, JSON.parse(text));
    }),
    { numRuns: 500 },
  );
});

test('refuses what JSON.parse refuses, with a position', () => {
  const alphabet = fc.constantFrom('{', '}', '[', ']', ',', ':', '"a"', '"\\u00e9"', '"\\x"', '1', '-0.5e3', '01', 'true', 'nul', ' ', '\n', '"\n"');
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 12 }), (tokens) => {
      const text = tokens.join('');
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      const result = readJson(text);
      if (valid) {
        // Only duplicate keys can make valid JSON fail here.
        if (!result.ok) assert.match(result.problems[0].message, /^duplicate key/, text);
      } else {
        assert.equal(result.ok, false, JSON.stringify(text));
        if (!result.ok) assert.ok(result.problems[0].line !== undefined, `no position for ${JSON.stringify(text)}`);
      }
    }),
    { numRuns: 3000 },
  );
});

test('locates paths at their keys and array items', () => {
  const text = '{\n  "a": [\n    {"b": 1},\n    {"c": {"d": 2}}\n  ],\n  "e": "x"\n}';
  const result = readJson(text);
  assert.ok(result.ok);
  assert.deepEqual(result.locate([['a', 1, 'c', 'd'], ['a', 0], ['e'], ['a', 5, 'x'], [], ['zzz']]), [
    { line: 4, column: 12 },
    { line: 3, column: 5 },
    { line: 6, column: 3 },
    { line: 2, column: 3 },
    { line: 1, column: 1 },
    { line: 1, column: 1 },
  ]);
});
