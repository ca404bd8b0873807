// Correctness of the route matcher: AWS precedence, greedy paths, percent-decoding, trailing slashes, and a
// property test against a brute-force reference. Speed is measured by bench/router.ts, not here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRouter, RouterDecodeError } from './router.ts';

function routerOf(routes: Array<[string, string]>) {
  const router = createRouter<string>();
  for (const [method, path] of routes) router.add(method, path, `${method} ${path}`);
  return router;
}

test('static beats {param} beats {proxy+}', () => {
  const r = routerOf([
    ['GET', '/pets/mine'],
    ['GET', '/pets/{id}'],
    ['GET', '/pets/{proxy+}'],
  ]);
  assert.deepEqual(r.find('GET', '/pets/mine'), { value: 'GET /pets/mine', params: {} });
  assert.deepEqual(r.find('GET', '/pets/42'), { value: 'GET /pets/{id}', params: { id: '42' } });
  assert.deepEqual(r.find('GET', '/pets/42/toys'), { value: 'GET /pets/{proxy+}', params: { proxy: '42/toys' } });
  assert.equal(r.size, 3);
});

test('a static prefix that dead-ends falls back to the parameter branch', () => {
  const r = routerOf([
    ['GET', '/a/b/c'],
    ['GET', '/a/{x}/d'],
  ]);
  assert.deepEqual(r.find('GET', '/a/b/d'), { value: 'GET /a/{x}/d', params: { x: 'b' } });
  assert.deepEqual(r.find('GET', '/a/b/c'), { value: 'GET /a/b/c', params: {} });
  assert.equal(r.find('GET', '/a/b'), undefined);
});

test('the exact method beats ANY on the same path; ANY takes the other methods', () => {
  const r = routerOf([
    ['ANY', '/pets'],
    ['GET', '/pets'],
  ]);
  assert.equal(r.find('GET', '/pets')?.value, 'GET /pets');
  assert.equal(r.find('DELETE', '/pets')?.value, 'ANY /pets');
});

test('a static route without the method falls through to a parameter route that has it', () => {
  // As in Amazon API Gateway, which resolves a request on the resource + method pair (measured on AWS: with
  // ANY /{proxy+} and GET /jobs/{operation_type}, POST /jobs/reboot and GET on an OPTIONS-only resource reach
  // the proxy): POST /pets/mine reaches POST /pets/{id} instead of failing on the static /pets/mine.
  const r = routerOf([
    ['GET', '/pets/mine'],
    ['POST', '/pets/{id}'],
  ]);
  assert.deepEqual(r.find('POST', '/pets/mine'), { value: 'POST /pets/{id}', params: { id: 'mine' } });
  assert.equal(r.find('PUT', '/pets/mine'), undefined);
  // A static ANY still beats an exact method on a parameter route: the more specific path decides first.
  const s = routerOf([
    ['ANY', '/pets/mine'],
    ['GET', '/pets/{id}'],
  ]);
  assert.equal(s.find('GET', '/pets/mine')?.value, 'ANY /pets/mine');
  // The measured AWS tree.
  const aws = routerOf([
    ['ANY', '/{proxy+}'],
    ['GET', '/jobs/{operation_type}'],
    ['OPTIONS', '/cors_only'],
  ]);
  assert.equal(aws.find('GET', '/jobs/reboot')?.value, 'GET /jobs/{operation_type}');
  assert.equal(aws.find('POST', '/jobs/reboot')?.value, 'ANY /{proxy+}');
  assert.equal(aws.find('GET', '/jobs')?.value, 'ANY /{proxy+}');
  assert.equal(aws.find('GET', '/cors_only')?.value, 'ANY /{proxy+}');
  assert.equal(aws.find('OPTIONS', '/cors_only')?.value, 'OPTIONS /cors_only');
});

test('a greedy parameter takes one or more segments, never zero (as in AWS)', () => {
  const r = routerOf([['GET', '/files/{proxy+}']]);
  assert.equal(r.find('GET', '/files'), undefined);
  assert.equal(r.find('GET', '/files/'), undefined);
  assert.equal(r.find('GET', '/files//x'), undefined);
  assert.deepEqual(r.find('GET', '/files/a')?.params, { proxy: 'a' });
  assert.deepEqual(r.find('GET', '/files/a/b/c')?.params, { proxy: 'a/b/c' });
  // Later empty segments are kept, so a directory URL reaches the upstream as written.
  assert.deepEqual(r.find('GET', '/files/dir/')?.params, { proxy: 'dir/' });
});

test('params of every kind are captured by name', () => {
  const r = routerOf([['GET', '/users/{user}/repos/{repo}/{path+}']]);
  assert.deepEqual(r.find('GET', '/users/ann/repos/gw/src/index.ts')?.params, {
    user: 'ann',
    repo: 'gw',
    path: 'src/index.ts',
  });
});

test('segments are split before they are percent-decoded', () => {
  const r = routerOf([
    ['GET', '/pets'],
    ['GET', '/pets/{id}'],
    ['GET', '/files/{proxy+}'],
  ]);
  assert.deepEqual(r.find('GET', '/pets/a%2Fb'), { value: 'GET /pets/{id}', params: { id: 'a/b' } });
  assert.deepEqual(r.find('GET', '/pets/caf%C3%A9')?.params, { id: 'café' });
  assert.equal(r.find('GET', '/pe%74s')?.value, 'GET /pets');
  assert.deepEqual(r.find('GET', '/files/a%20b/c')?.params, { proxy: 'a b/c' });
  // "+" is not a space in a path (that is a form-encoding rule).
  assert.deepEqual(r.find('GET', '/pets/a+b')?.params, { id: 'a+b' });
});

test('malformed percent-encoding throws RouterDecodeError so the caller can answer 400', () => {
  const r = routerOf([['GET', '/pets/{id}']]);
  assert.throws(() => r.find('GET', '/pets/%zz'), RouterDecodeError);
  assert.throws(() => r.find('GET', '/pets/%C3%28'), (e: unknown) => e instanceof RouterDecodeError && e.code === 'INVALID_PERCENT_ENCODING');
  assert.throws(() => r.find('GET', '/pets/%'), RouterDecodeError);
});

test('a trailing slash is a different path (AWS treats /pets/ as another resource)', () => {
  const r = routerOf([
    ['GET', '/pets'],
    ['GET', '/pets/{id}'],
  ]);
  assert.equal(r.find('GET', '/pets/'), undefined);
  assert.equal(r.find('GET', '/pets/1/'), undefined);
  assert.equal(r.find('GET', '/pets')?.value, 'GET /pets');
});

test('an empty segment never matches a parameter', () => {
  const r = routerOf([['GET', '/a/{x}/b']]);
  assert.equal(r.find('GET', '/a//b'), undefined);
  assert.deepEqual(r.find('GET', '/a/1/b')?.params, { x: '1' });
});

test('the root route matches only "/"; a root greedy route matches everything else', () => {
  const r = routerOf([
    ['GET', '/'],
    ['ANY', '/{proxy+}'],
  ]);
  assert.deepEqual(r.find('GET', '/'), { value: 'GET /', params: {} });
  assert.equal(r.find('POST', '/')?.value, undefined);
  assert.deepEqual(r.find('POST', '/x/y'), { value: 'ANY /{proxy+}', params: { proxy: 'x/y' } });
  assert.equal(r.find('GET', 'x'), undefined);
  assert.equal(r.find('GET', ''), undefined);
});

test('add refuses invalid templates and duplicate routes', () => {
  const r = createRouter<number>();
  r.add('GET', '/pets/{id}', 1);
  assert.throws(() => r.add('GET', '/pets/{name}', 2), /duplicate route GET/);
  r.add('ANY', '/pets/{name}', 3);
  assert.throws(() => r.add('ANY', '/pets/{id}', 4), /duplicate route ANY/);
  assert.throws(() => r.add('GET', 'pets', 5), /must start with/);
  assert.throws(() => r.add('GET', '/a//b', 5), /empty segment/);
  assert.throws(() => r.add('GET', '/a/', 5), /empty segment/);
  assert.throws(() => r.add('GET', '/{p+}/x', 5), /last segment/);
  assert.throws(() => r.add('GET', '/{a-b}', 5), /invalid parameter/);
  assert.throws(() => r.add('GET', '/{__proto__}', 5), /invalid parameter/);
  assert.throws(() => r.add('GET', '/{a}/{a}', 5), /twice/);
  assert.throws(() => r.add('GET', '/a%20b', 5), /invalid segment/);
  assert.equal(r.size, 2);
  // The later-named route keeps its own parameter names.
  assert.deepEqual(r.find('PUT', '/pets/7'), { value: 3, params: { name: '7' } });
});

test('a method named like an Object.prototype member matches nothing', () => {
  const r = routerOf([['GET', '/x']]);
  assert.equal(r.find('__proto__', '/x'), undefined);
  assert.equal(r.find('constructor', '/x'), undefined);
});

// Reference: every route that matches, ordered by per-segment rank (static 0, param 1, greedy 2), then exact
// method before ANY. The trie's depth-first search must return the first of them.
function referenceMatch(routes: Array<[string, string]>, method: string, path: string): string | undefined {
  const segs = path === '/' ? [] : path.slice(1).split('/');
  const best: Array<{ key: number[]; value: string }> = [];
  for (const [m, template] of routes) {
    if (m !== method && m !== 'ANY') continue;
    const parts = template === '/' ? [] : template.slice(1).split('/');
    const key: number[] = [];
    let ok = true;
    let consumedAll = parts.length === segs.length;
    for (let i = 0; i < parts.length && ok; i++) {
      const p = parts[i];
      if (p.endsWith('+}')) {
        ok = i < segs.length && segs[i] !== '';
        key.push(2);
        consumedAll = true;
      } else if (p.startsWith('{')) {
        ok = i < segs.length && segs[i] !== '';
        key.push(1);
      } else {
        ok = i < segs.length && segs[i] === p;
        key.push(0);
      }
    }
    if (ok && consumedAll) best.push({ key: [...key, m === 'ANY' ? 1 : 0], value: `${m} ${template}` });
  }
  best.sort((a, b) => {
    for (let i = 0; i < Math.min(a.key.length, b.key.length); i++) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i];
    return a.key.length - b.key.length;
  });
  return best[0]?.value;
}

test('matches the brute-force reference on random route sets and paths', () => {
  const segment = fc.constantFrom('a', 'b', '{x}', '{y}', '{g+}');
  const template = fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => `/${s.join('/')}`);
  const method = fc.constantFrom('GET', 'POST', 'ANY');
  const requestPath = fc
    .array(fc.constantFrom('a', 'b', 'c', ''), { minLength: 0, maxLength: 5 })
    .map((s) => (s.length === 0 ? '/' : `/${s.join('/')}`));
  fc.assert(
    fc.property(fc.array(fc.tuple(method, template), { maxLength: 12 }), fc.array(requestPath, { minLength: 1, maxLength: 8 }), fc.constantFrom('GET', 'POST'), (routes, paths, requestMethod) => {
      const router = createRouter<string>();
      const accepted: Array<[string, string]> = [];
      for (const [m, t] of routes) {
        try {
          router.add(m, t, `${m} ${t}`);
          accepted.push([m, t]);
        } catch {
          // Invalid templates (greedy not last, repeated names) and duplicates are skipped by both sides.
        }
      }
      for (const path of paths) {
        assert.equal(router.find(requestMethod, path)?.value, referenceMatch(accepted, requestMethod, path), `${requestMethod} ${path}`);
      }
    }),
    { numRuns: 2000 },
  );
});
