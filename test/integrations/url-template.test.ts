// Unit tests for integration URL templates: stage variables, origin, placeholder encoding, query merge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileUrlTemplate, UrlTemplateError } from '../../src/gateway/integrations/url-template.ts';

const NO_VARS = {};

test('a static URL keeps its path; the client query is appended', () => {
  const t = compileUrlTemplate('http://127.0.0.1:3000/pets', NO_VARS);
  assert.equal(t.origin, 'http://127.0.0.1:3000');
  assert.equal(t.path({}, ''), '/pets');
  assert.equal(t.path({}, 'a=1&b=%20'), '/pets?a=1&b=%20');
  assert.equal(t.url({}, 'x=1'), 'http://127.0.0.1:3000/pets?x=1');
});

test('the template query and the client query are merged with &', () => {
  const t = compileUrlTemplate('http://h/p?fixed=1', NO_VARS);
  assert.equal(t.path({}, ''), '/p?fixed=1');
  assert.equal(t.path({}, 'a=2'), '/p?fixed=1&a=2');
  assert.equal(compileUrlTemplate('http://h/p?', NO_VARS).path({}, 'a=2'), '/p?a=2');
  assert.equal(compileUrlTemplate('http://h/p?', NO_VARS).path({}, ''), '/p');
  assert.equal(compileUrlTemplate('http://h/p?x=1&', NO_VARS).path({}, 'a=2'), '/p?x=1&a=2');
  assert.equal(compileUrlTemplate('http://h/p?x=1&', NO_VARS).path({}, ''), '/p?x=1');
});

test('origin: scheme and host are normalised, default port dropped, empty path is /', () => {
  assert.equal(compileUrlTemplate('HTTP://Example.COM:80', NO_VARS).origin, 'http://example.com');
  assert.equal(compileUrlTemplate('http://example.com', NO_VARS).path({}, ''), '/');
  assert.equal(compileUrlTemplate('http://example.com?q=1', NO_VARS).path({}, ''), '/?q=1');
  assert.equal(compileUrlTemplate('https://example.com:8443/a#frag', NO_VARS).origin, 'https://example.com:8443');
  assert.equal(compileUrlTemplate('https://example.com:8443/a#frag', NO_VARS).path({}, ''), '/a');
  assert.equal(compileUrlTemplate('http://[::1]:3000/a', NO_VARS).origin, 'http://[::1]:3000');
});

test('stage variables are substituted once, anywhere in the URL', () => {
  const vars = { backend: 'http://10.0.0.1:8080', version: 'v2' };
  const t = compileUrlTemplate('${stageVariables.backend}/${stageVariables.version}/pets/{id}', vars);
  assert.equal(t.origin, 'http://10.0.0.1:8080');
  assert.equal(t.template, 'http://10.0.0.1:8080/v2/pets/{id}');
  assert.equal(t.path({ id: '7' }, ''), '/v2/pets/7');
});

test('an undefined stage variable is a compile error naming it', () => {
  assert.throws(
    () => compileUrlTemplate('${stageVariables.backend}/pets', { other: 'x' }),
    (err: unknown) => err instanceof UrlTemplateError && /"backend"/.test(err.message),
  );
  // Inherited properties are not stage variables.
  assert.throws(() => compileUrlTemplate('http://h/${stageVariables.constructor}', {}), UrlTemplateError);
});

test('invalid templates are refused at compile time', () => {
  for (const bad of ['ftp://h/x', '/relative', 'http:///x', 'http://{host}/x', 'http://user:pw@h/x', 'http://h/a b', 'http://h/{unclosed', 'http://h/${env.X}']) {
    assert.throws(() => compileUrlTemplate(bad, NO_VARS), UrlTemplateError, bad);
  }
});

test('a path parameter is encoded as exactly one segment', () => {
  const t = compileUrlTemplate('http://h/items/{id}/detail', NO_VARS);
  assert.deepEqual(t.parameters, ['id']);
  assert.equal(t.path({ id: 'a/b' }, ''), '/items/a%2Fb/detail');
  assert.equal(t.path({ id: '../admin' }, ''), '/items/..%2Fadmin/detail');
  assert.equal(t.path({ id: 'a b?c#d%' }, ''), '/items/a%20b%3Fc%23d%25/detail');
  assert.equal(t.path({ id: 'é' }, ''), '/items/%C3%A9/detail');
  assert.equal(t.path({}, ''), '/items//detail');
});

test('dot-segment values are refused (no encoding of them is safe for WHATWG URL parsers)', () => {
  const t = compileUrlTemplate('http://h/items/{id}', NO_VARS);
  assert.equal(t.path({ id: '..' }, ''), undefined);
  assert.equal(t.path({ id: '.' }, ''), undefined);
  assert.equal(t.path({ id: '...' }, ''), '/items/...');
  assert.equal(new URL(`http://h${t.path({ id: '../x' }, '')}`).pathname, '/items/..%2Fx');
  assert.equal(t.path({ id: '\ud800' }, ''), undefined, 'lone surrogate');
});

test('greedy {proxy} keeps its slashes and encodes each piece', () => {
  const t = compileUrlTemplate('http://h/base/{proxy}', NO_VARS);
  assert.equal(t.path({ proxy: 'a/b c/d' }, 'q=1'), '/base/a/b%20c/d?q=1');
  assert.equal(t.path({ proxy: 'a/../admin' }, ''), undefined);
  assert.equal(t.path({ proxy: './x' }, ''), undefined);
  assert.equal(t.path({ proxy: 'a/%2F' }, ''), '/base/a/%252F');
  // {name+} in the URL, or a greedy parameter named by the route, also keep slashes.
  assert.equal(compileUrlTemplate('http://h/{path+}', NO_VARS).path({ path: 'x/y' }, ''), '/x/y');
  assert.equal(compileUrlTemplate('http://h/{path}', NO_VARS, { greedyParameters: ['path'] }).path({ path: 'x/y' }, ''), '/x/y');
  assert.equal(compileUrlTemplate('http://h/{path}', NO_VARS).path({ path: 'x/y' }, ''), '/x%2Fy');
});

test('placeholders in the template query are encoded as query values', () => {
  const t = compileUrlTemplate('http://h/search?term={id}&x=1', NO_VARS);
  assert.equal(t.path({ id: 'a&b=c/..' }, 'page=2'), '/search?term=a%26b%3Dc%2F..&x=1&page=2');
});

test('parameter names are not looked up on the prototype', () => {
  const t = compileUrlTemplate('http://h/{constructor}', NO_VARS);
  assert.equal(t.path({}, ''), '/');
});
