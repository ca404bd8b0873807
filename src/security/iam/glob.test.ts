// Tests for the regex-free glob matcher: fixed cases for each compiled shape, and a property test against a
// regular-expression reference on random patterns and inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileGlob, compileGlobText, globFromTokens, matchGlob, startsAt, tokenizeGlobText } from './glob.ts';

function reference(pattern: string, s: string): boolean {
  const body = [...pattern].map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`).test(s);
}

test('glob shapes: exact, any, prefix, suffix, infix, general', () => {
  const cases: [string, string, boolean][] = [
    ['abc', 'abc', true], ['abc', 'abcd', false], ['', '', true], ['', 'a', false],
    ['*', '', true], ['*', 'anything/at:all', true], ['**', 'x', true],
    ['ab*', 'ab', true], ['ab*', 'abc', true], ['ab*', 'a', false],
    ['*bc', 'bc', true], ['*bc', 'abc', true], ['*bc', 'bcd', false],
    ['a*c', 'ac', true], ['a*c', 'abbc', true], ['a*c', 'a', false], ['ab*ba', 'aba', false], ['ab*ba', 'abba', true],
    ['?', 'a', true], ['?', '', false], ['?', 'ab', false], ['a?c', 'abc', true], ['a?c', 'ac', false],
    ['*?*', '', false], ['*?*', 'x', true],
    ['a*b*c', 'aXbYc', true], ['a*b*c', 'acb', false], ['*a*a*', 'aa', true], ['*a*a*', 'ba', false],
    ['prod/*/pets/??', 'prod/GET/pets/42', true], ['prod/*/pets/??', 'prod/GET/pets/4', false],
  ];
  for (const [p, s, expected] of cases) {
    assert.equal(compileGlobText(p)(s, 0), expected, `${p} vs ${s}`);
    assert.equal(reference(p, s), expected, `reference ${p} vs ${s}`);
  }
});

test('matching from an offset covers the rest of the string', () => {
  const m = compileGlobText('abc123/*');
  assert.equal(m('arn:x:abc123/prod', 6), true);
  assert.equal(m('arn:x:abd123/prod', 6), false);
  assert.equal(compileGlobText('a?')('xxab', 2), true);
  assert.equal(compileGlobText('*b')('ab', 2), false);
});

test('literal tokens keep * and ? literal', () => {
  const g = globFromTokens([{ lit: 'a*' }, '*', { lit: '?' }]);
  assert.equal(matchGlob(g, 'a*xyz?', 0), true);
  assert.equal(matchGlob(g, 'abxyz?', 0), false);
  assert.equal(compileGlob(g)('a*?', 0), true);
  assert.deepEqual(tokenizeGlobText('a*b?'), [{ lit: 'a' }, '*', { lit: 'b' }, '?']);
});

test('startsAt agrees with String.prototype.startsWith', () => {
  fc.assert(fc.property(fc.string(), fc.string(), fc.nat(10), (s, t, pos) => startsAt(s, t, pos) === s.startsWith(t, pos) || pos > s.length));
});

test('property: the compiled glob agrees with a regular-expression reference', () => {
  const alphabet = fc.constantFrom('a', 'b', '/', ':', '*', '?');
  const text = fc.constantFrom('a', 'b', '/', ':');
  fc.assert(fc.property(fc.array(alphabet, { maxLength: 8 }), fc.array(text, { maxLength: 10 }), (pa, sa) => {
    const p = pa.join('');
    const s = sa.join('');
    return compileGlobText(p)(s, 0) === reference(p, s) && matchGlob(globFromTokens(tokenizeGlobText(p)), s, 0) === reference(p, s);
  }), { numRuns: 3000 });
});
