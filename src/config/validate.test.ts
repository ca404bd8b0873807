// Semantic checks: each kind of problem zod cannot see, with its exact path, line and wording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveApiId } from './api-id.ts';
import { formatProblems, parseDefinition, type DefinitionProblem } from './load.ts';
import { validateDefinition } from './validate.ts';
import { DefinitionSchema } from './schema.ts';

function problemsOf(yaml: string): DefinitionProblem[] {
  const result = parseDefinition(yaml);
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.problems;
}

function expectProblem(list: DefinitionProblem[], path: string, message: string | RegExp, line: number): void {
  const found = list.find((p) => p.path === path && (typeof message === 'string' ? p.message === message : message.test(p.message)));
  assert.ok(found, `no problem ${path}: ${message}\n${formatProblems(list)}`);
  assert.equal(found.line, line, `line of ${path}: ${found.message}`);
}

function expectValid(yaml: string): void {
  const result = parseDefinition(yaml);
  assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
}

/** One API named `a` with a prod stage and the given route lines (YAML flow mappings, one per line). */
function api(routes: string[], extra = ''): string {
  return `apis:
  - name: a
    stages:
      prod: { variables: { backend: "http://127.0.0.1:3000" } }
    routes:
${routes.map((r) => `      - ${r}`).join('\n')}
${extra}`;
}
const ROUTES_LINE = 6; // line of the first route in api()

test('API names and ids must be unique', () => {
  const list = problemsOf(`apis:
  - { name: pets, stages: {}, routes: [] }
  - { name: pets, basePath: /two, stages: {}, routes: [] }
  - { name: cats, id: abcdefghij, basePath: /three, stages: {}, routes: [] }
  - { name: dogs, id: abcdefghij, basePath: /four, stages: {}, routes: [] }
  - { name: owls, id: ${deriveApiId('birds')}, basePath: /five, stages: {}, routes: [] }
  - { name: birds, basePath: /six, stages: {}, routes: [] }
`);
  expectProblem(list, 'apis[1].name', 'API name "pets" is already used by apis[0]', 3);
  expectProblem(list, 'apis[3].id', 'API id "abcdefghij" is already used by apis[2]', 5);
  expectProblem(
    list,
    'apis[5].name',
    `API id "${deriveApiId('birds')}" (derived from the name "birds") is already used by apis[4]`,
    7,
  );
  // The duplicate name is not reported a second time as a duplicate derived id.
  assert.equal(list.filter((p) => p.path.startsWith('apis[1]')).length, 1);
});

test('base paths: grammar, and no two APIs answering the same host and base path', () => {
  const list = problemsOf(`apis:
  - { name: a, basePath: /pets, stages: {}, routes: [] }
  - { name: b, basePath: /pets, stages: {}, routes: [] }
  - { name: c, basePath: /pets, hosts: [api.example.com, x.example.com], stages: {}, routes: [] }
  - { name: d, basePath: /pets, hosts: [API.example.com], stages: {}, routes: [] }
  - { name: e, basePath: /pets, hosts: [other.example.com, other.example.com], stages: {}, routes: [] }
  - { name: f, basePath: /v1/, stages: {}, routes: [] }
  - { name: g, basePath: "/{stage}", stages: {}, routes: [] }
  - { name: h, basePath: /a/../b, stages: {}, routes: [] }
  - { name: i, basePath: /a%20b, stages: {}, routes: [] }
  - { name: j, basePath: v1, stages: {}, routes: [] }
  - { name: k, basePath: /a//b, stages: {}, routes: [] }
`);
  expectProblem(list, 'apis[1].basePath', 'apis[1] and apis[0] both serve base path "/pets" for any host (neither lists hosts): a request could not tell them apart', 3);
  expectProblem(list, 'apis[3].basePath', /^apis\[3\] and apis\[2\] both serve base path "\/pets" on host "api\.example\.com"/, 5);
  expectProblem(list, 'apis[4].hosts[1]', 'host "other.example.com" is listed twice', 6);
  expectProblem(list, 'apis[5].basePath', '"/v1/" ends with "/"; write it without the trailing slash', 7);
  expectProblem(list, 'apis[6].basePath', 'a base path cannot contain parameters (found "{stage}")', 8);
  expectProblem(list, 'apis[7].basePath', 'a base path cannot contain "." or ".." segments (found "..")', 9);
  expectProblem(list, 'apis[8].basePath', '"%" is not allowed: write the character itself, without percent-encoding', 10);
  expectProblem(list, 'apis[9].basePath', 'a base path starts with "/" (found "v1")', 11);
  expectProblem(list, 'apis[10].basePath', '"/a//b" has an empty segment ("//")', 12);
  // A host-bound API next to a hostless one on the same base path is fine: the listed host wins.
  assert.equal(list.filter((p) => p.path === 'apis[2].basePath').length, 0);
});

test('route path grammar', () => {
  const bad = [
    'pets',
    '/pets/',
    '/a//b',
    '/pets/{id',
    '/pets/x{id}',
    '/pets/{pet-id}',
    '/files/{proxy+}/meta',
    '/a/{id}/b/{id}',
    '/a b',
    '/a%20b',
    '/a/../b',
    '/{__proto__}',
  ];
  const list = problemsOf(api(bad.map((p) => `{ method: GET, path: "${p}", integration: { type: mock } }`)));
  const expected: string[] = [
    'a route path starts with "/" (found "pets")',
    '"/pets/" ends with "/": only the root path is "/" (AWS treats /pets and /pets/ as different resources; write /pets)',
    '"/a//b" has an empty segment ("//")',
    '"{id": a parameter must be a whole segment, like /{id}',
    '"x{id}": a parameter must be a whole segment, like /{id}',
    'parameter "{pet-id}": a parameter name is letters, digits and _',
    '"{proxy+}": a greedy parameter must be the last segment',
    'parameter "id" appears more than once in "/a/{id}/b/{id}"',
    `segment "a b" contains a space, which cannot appear in a path; use letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @`,
    '"%" is not allowed: write the character itself, without percent-encoding',
    '"/a/../b" has a ".." segment, which no request can reach',
    'parameter name "__proto__" is reserved',
  ];
  expected.forEach((message, i) => expectProblem(list, `apis[0].routes[${i}].path`, message, ROUTES_LINE + i));
  assert.equal(list.length, expected.length, formatProblems(list));

  expectValid(
    api([
      '{ method: GET, path: /, integration: { type: mock } }',
      '{ method: GET, path: "/v1/pets:search/@me/a~b", integration: { type: mock } }',
      '{ method: GET, path: "/{proxy+}", integration: { type: mock } }',
      '{ method: GET, path: "/users/{user_id}/files/{path+}", integration: { type: mock } }',
    ]),
  );
});

test('duplicate and ambiguous routes name both indexes; ANY next to an explicit method is allowed', () => {
  const list = problemsOf(
    api([
      '{ method: GET, path: "/pets/{id}", integration: { type: mock } }',
      '{ method: ANY, path: "/pets/{id}", integration: { type: mock } }',
      '{ method: POST, path: "/pets/{id}", integration: { type: mock } }',
      '{ method: GET, path: "/pets/{name}", integration: { type: mock } }',
      '{ method: ANY, path: "/pets/{petId}", integration: { type: mock } }',
      '{ method: GET, path: "/pets", integration: { type: mock } }',
      '{ method: GET, path: "/pets", integration: { type: mock } }',
      '{ method: GET, path: "/files/{a+}", integration: { type: mock } }',
      '{ method: GET, path: "/files/{b+}", integration: { type: mock } }',
      '{ method: GET, path: "/files/{c}", integration: { type: mock } }',
    ]),
  );
  expectProblem(list, 'apis[0].routes[3]', 'GET /pets/{name} conflicts with apis[0].routes[0] GET /pets/{id}', ROUTES_LINE + 3);
  expectProblem(list, 'apis[0].routes[4]', 'ANY /pets/{petId} conflicts with apis[0].routes[1] ANY /pets/{id}', ROUTES_LINE + 4);
  expectProblem(list, 'apis[0].routes[6]', 'GET /pets conflicts with apis[0].routes[5] GET /pets', ROUTES_LINE + 6);
  expectProblem(list, 'apis[0].routes[8]', 'GET /files/{b+} conflicts with apis[0].routes[7] GET /files/{a+}', ROUTES_LINE + 8);
  // ANY + GET + POST on one path, and {c} next to {a+}, are not conflicts.
  assert.equal(list.length, 4, formatProblems(list));
});

test('integration URLs: stage variables must exist in every stage', () => {
  const list = problemsOf(`apis:
  - name: a
    stages:
      prod: { variables: { backend: "http://10.0.0.1", version: v2 } }
      dev: { variables: { backend: "http://10.0.0.2" } }
      test: {}
    routes:
      - method: GET
        path: /pets
        integration: { type: http_proxy, url: "\${stageVariables.backend}/\${stageVariables.version}/pets" }
`);
  expectProblem(list, 'apis[0].routes[0].integration.url', 'stage "dev" has no variable "version" (the URL uses ${stageVariables.version})', 10);
  expectProblem(list, 'apis[0].routes[0].integration.url', 'stage "test" has no variable "backend" (the URL uses ${stageVariables.backend})', 10);
  expectProblem(list, 'apis[0].routes[0].integration.url', 'stage "test" has no variable "version" (the URL uses ${stageVariables.version})', 10);
  assert.equal(list.length, 3, formatProblems(list));
});

test('integration URLs: expressions, placeholders and the URL each stage produces', () => {
  // [url, route path ({i} = this case's index, so no two routes conflict), expected message]
  const cases: Array<[string, string, string]> = [
    ['${foo}/pets', '/r{i}', 'unsupported expression "${foo}": the only expression allowed in a URL is ${stageVariables.name}'],
    ['${stageVariables.backend/pets', '/r{i}', 'unterminated "${" at character 1'],
    ['http://x/{petId}', '/r{i}/{id}', '{petId} is not a parameter of the route path; its parameters are {id}'],
    ['http://x/{Id}', '/r{i}/{id}', '{Id} is not a parameter of the route path; its parameters are {id} (did you mean "id"?)'],
    ['http://x/{proxy+}', '/r{i}/{proxy+}', 'write {proxy} without "+" in the URL: the greedy value is inserted as a path'],
    ['http://x/{', '/r{i}', 'unmatched "{" at character 10'],
    ['http://x/}', '/r{i}', 'unmatched "}" at character 10'],
    ['http://{id}.example.com/pets', '/r{i}/{id}', 'a path parameter cannot be part of the scheme or host: put it in the path or query of the URL'],
    ['ftp://x/pets/{id}', '/r{i}/{id}', '"ftp://x/pets/sample" is not an http: or https: URL (found "ftp:")'],
    ['http://user:secret@x/{id}', '/r{i}/{id}', '"http://user:secret@x/sample" contains credentials (user:password@), which are not allowed'],
    ['http://x/{id}#top', '/r{i}/{id}', '"http://x/sample#top" contains a fragment (#...), which is never sent upstream'],
    ['/pets/{id}', '/r{i}/{id}', '"/pets/sample" is not a valid absolute URL'],
    ['http://x/a b/{id}', '/r{i}/{id}', '"http://x/a b/sample" contains a space or a control character'],
    // The stage's value ends without "/", so the port becomes "3000pets": reported with the stage's name.
    ['${stageVariables.backend}pets/{id}', '/r{i}/{id}', 'in stage "prod" the URL becomes "http://127.0.0.1:3000pets/sample", which is not a valid absolute URL'],
  ];
  const routes = cases.map(
    ([url, path], i) => `{ method: GET, path: "${path.replace('{i}', String(i))}", integration: { type: http_proxy, url: "${url}" } }`,
  );
  const list = problemsOf(api(routes));
  cases.forEach(([, , message], i) => expectProblem(list, `apis[0].routes[${i}].integration.url`, message, ROUTES_LINE + i));
  assert.equal(list.length, cases.length, formatProblems(list));

  const route = (url: string, path: string) => `{ method: GET, path: "${path}", integration: { type: http_proxy, url: "${url}" } }`;
  expectValid(
    api([
      route('${stageVariables.backend}/pets/{id}?q=1', '/pets/{id}'),
      route('https://[::1]:8443/files/{proxy}', '/files/{proxy+}'),
      route('http://backend.internal/{a}/{b}', '/x/{a}/{b}'),
    ]),
  );
});

test('gateway response header values take the accepted forms only', () => {
  const list = problemsOf(
    api(
      ['{ method: GET, path: /, integration: { type: mock } }'],
      `    gatewayResponses:
      DEFAULT_4XX:
        headers:
          Access-Control-Allow-Origin: "*"
          X-Ok-Literal: "'*'"
          X-Ok-Header: method.request.header.Origin
          X-Ok-Path: method.request.path.id
          X-Ok-Query: method.request.querystring.page
          X-Ok-Stage: stageVariables.origin
          X-Bad: method.request.body.x
          X-Empty: ""
`,
    ),
  );
  const forms = "; write 'text' in single quotes, method.request.header.NAME, method.request.path.NAME, method.request.querystring.NAME or stageVariables.NAME";
  expectProblem(
    list,
    'apis[0].gatewayResponses.DEFAULT_4XX.headers.Access-Control-Allow-Origin',
    `"*" is not an accepted header value (for the literal text write "'*'")${forms}`,
    10,
  );
  expectProblem(list, 'apis[0].gatewayResponses.DEFAULT_4XX.headers.X-Bad', `"method.request.body.x" is not an accepted header value${forms}`, 16);
  expectProblem(list, 'apis[0].gatewayResponses.DEFAULT_4XX.headers.X-Empty', /^"" is not an accepted header value/, 17);
  assert.equal(list.length, 3, formatProblems(list));
});

test('route throttle keys must name an existing route as /path/METHOD', () => {
  const list = problemsOf(`apis:
  - name: a
    stages:
      prod:
        routeThrottles:
          "*/*": { rateLimit: 1, burstLimit: 1 }
          /pets/GET: { rateLimit: 1, burstLimit: 1 }
          /pets/{id}/ANY: { rateLimit: 1, burstLimit: 1 }
          //GET: { rateLimit: 1, burstLimit: 1 }
          /pets/get: { rateLimit: 1, burstLimit: 1 }
          /pets/FETCH: { rateLimit: 1, burstLimit: 1 }
          /pet/GET: { rateLimit: 1, burstLimit: 1 }
          /pets/POST: { rateLimit: 1, burstLimit: 1 }
          /pets/{id}/GET: { rateLimit: 1, burstLimit: 1 }
          pets: { rateLimit: 1, burstLimit: 1 }
          /GET: { rateLimit: 1, burstLimit: 1 }
    routes:
      - { method: GET, path: /pets, integration: { type: mock } }
      - { method: ANY, path: "/pets/{id}", integration: { type: mock } }
      - { method: GET, path: /, integration: { type: mock } }
`);
  const at = (key: string) => `apis[0].stages.prod.routeThrottles[${JSON.stringify(key)}]`;
  expectProblem(list, at('/pets/get'), 'method "get" must be written in capitals: "/pets/GET"', 10);
  expectProblem(list, at('/pets/FETCH'), '"FETCH" is not a method; the key ends with one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY', 11);
  expectProblem(list, at('/pet/GET'), 'no route has the path "/pet" (did you mean "/pets"?)', 12);
  expectProblem(list, at('/pets/POST'), 'no POST route on /pets (it has GET)', 13);
  expectProblem(
    list,
    at('/pets/{id}/GET'),
    'no GET route on /pets/{id} (it has ANY); requests to GET /pets/{id} use the ANY route, keyed "/pets/{id}/ANY"',
    14,
  );
  expectProblem(list, 'apis[0].stages.prod.routeThrottles.pets', '"pets" is not a route key: write "/path/METHOD" (for example "/pets/GET"), or "*/*" for every route', 15);
  expectProblem(list, at('/GET'), `"/GET" has no path: write "/path/METHOD"; the root path's key is "//GET"`, 16);
  assert.equal(list.length, 7, formatProblems(list));
});

test('validateDefinition can be called on a parsed definition directly', () => {
  const definition = DefinitionSchema.parse({
    apis: [{ name: 'a', stages: {}, routes: [{ method: 'GET', path: '/x/', integration: { type: 'mock' } }] }],
  });
  assert.deepEqual(validateDefinition(definition), [
    {
      path: 'apis[0].routes[0].path',
      message: '"/x/" ends with "/": only the root path is "/" (AWS treats /pets and /pets/ as different resources; write /pets)',
    },
  ]);
});

test('deriveApiId is stable, 10 lowercase base36 characters, and differs by name', () => {
  const id = deriveApiId('pets');
  assert.match(id, /^[a-z0-9]{10}$/);
  assert.equal(deriveApiId('pets'), id);
  assert.notEqual(deriveApiId('pets2'), id);
  assert.equal(deriveApiId(''), deriveApiId(''));
  // Pinned: changing the derivation would change every ARN and $context.apiId in running deployments.
  assert.equal(id, '6us7ovbjdt');
  assert.match(deriveApiId('x'.repeat(1000)), /^[a-z0-9]{10}$/);
});
