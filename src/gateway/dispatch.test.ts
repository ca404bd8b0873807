// The request-target checks of phase 1 (one pass over the characters) against the plain definition:
// a regular expression for percent-encoding, then dot segments, then backslashes, in that order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { targetProblem } from './dispatch.ts';

function reference(url: string): string | undefined {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (/%(?![0-9A-Fa-f]{2})/.test(url)) return 'invalid percent-encoding';
  if (path.split('/').some((seg) => ['.', '..'].includes(seg.toLowerCase().replaceAll('%2e', '.')))) return 'dot segment in path';
  if (path.includes('\\')) return 'backslash in path';
  return undefined;
}

const check = (url: string) => {
  const q = url.indexOf('?');
  assert.equal(targetProblem(url, q === -1 ? url : url.slice(0, q)), reference(url), url);
};

test('examples: each problem, in the path and in the query, and targets without one', () => {
  for (const url of [
    '/prod/pets', '/prod/pets?x=1', '/a/%41b', '/a%2', '/a%zz', '/a?q=%', '/a?q=%4', '/a?q=%41', '/a/./b', '/a/../b', '/a/%2e%2E/b',
    '/a/.hidden', '/a/..b', '/a/b.', '/a\\b', '/a?x=\\', '/a?x=/../', '/%2e', '/.', '/..', '/a/%2F/b', '/a%', '/%%41',
  ]) check(url);
});

test('any target built from the characters that matter agrees with the plain definition', () => {
  const alphabet = fc.constantFrom('/', '.', '%', '2', 'e', 'E', 'a', 'F', 'g', '?', '\\', '4', '1', 'z');
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 24 }), (chars) => check(`/${chars.join('')}`)),
    { numRuns: 20_000 },
  );
});
