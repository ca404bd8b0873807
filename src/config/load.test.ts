// Loading definitions: YAML and JSON that pass, and for everything that does not, the exact path, line and
// wording a person gets (schema problems, parse errors, limits, alias bombs, encodings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { DefinitionError, formatProblems, parseDefinition, type DefinitionProblem, type LoadResult } from './load.ts';

const PETS_YAML = `# The pets API, as in docs
apis:
  - name: pets
    basePath: /pets-api
    hosts: [API.Example.com]
    stages:
      prod:
        variables: { backend: "http://127.0.0.1:3000" }
        throttle: { rateLimit: 1000, burstLimit: 2000 }
        routeThrottles:
          /pets/GET: { rateLimit: 50, burstLimit: 100 }
      dev:
        variables: { backend: "https://dev.internal:8443/v2" }
    gatewayResponses:
      THROTTLED:
        statusCode: 429
        headers: { Retry-After: "'1'", X-Request: method.request.header.X-Request-Id }
    routes:
      - method: GET
        path: /pets
        integration: { type: http_proxy, url: "\${stageVariables.backend}/pets" }
      - method: ANY
        path: /pets/{id}
        integration: { type: http_proxy, url: "\${stageVariables.backend}/pets/{id}?src=gw", timeoutMs: 5000 }
      - method: GET
        path: /pets/{id}
        integration: { type: mock, statusCode: 200, body: { id: 1 } }
      - method: POST
        path: /files/{proxy+}
        integration: { type: http_proxy, url: "\${stageVariables.backend}/files/{proxy}" }
      - method: GET
        path: /
        integration: { type: mock, body: ok }
`;

function problems(result: LoadResult): DefinitionProblem[] {
  assert.equal(result.ok, false, 'expected the definition to be refused');
  return result.ok ? [] : result.problems;
}

/** Asserts one problem at `path` whose message matches, at `line` when given. */
function expectProblem(list: DefinitionProblem[], path: string, message: string | RegExp, line?: number): DefinitionProblem {
  const found = list.find((p) => p.path === path && (typeof message === 'string' ? p.message === message : message.test(p.message)));
  assert.ok(found, `no problem ${path}: ${message}\n${formatProblems(list)}`);
  if (line !== undefined) assert.equal(found.line, line, `line of ${path}\n${formatProblems(list)}`);
  return found;
}

test('a good YAML definition loads with defaults applied', () => {
  const result = parseDefinition(PETS_YAML, { fileName: 'pets.yaml' });
  assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
  assert.equal(result.format, 'yaml');
  const api = result.definition.apis[0];
  assert.deepEqual(api.hosts, ['api.example.com']);
  assert.equal(api.routes.length, 5);
  assert.equal(result.definition.settings.region, 'us-east-1');
  assert.equal(api.routes[0].auth, 'none');
  const integration = api.routes[0].integration;
  assert.equal(integration.type === 'http_proxy' && integration.timeoutMs, 29_000);
});

test('the same definition as JSON loads to the same value', () => {
  const yaml = parseDefinition(PETS_YAML);
  assert.ok(yaml.ok);
  const json = parseDefinition(JSON.stringify(yaml.definition, null, 2));
  assert.ok(json.ok, json.ok ? '' : formatProblems(json.problems));
  assert.equal(json.format, 'json');
  assert.deepEqual(json.definition, yaml.definition);
  // Bytes work too, and a UTF-8 byte-order mark is ignored.
  const bytes = new TextEncoder().encode(`\uFEFF${JSON.stringify(yaml.definition)}`);
  const fromBytes = parseDefinition(bytes);
  assert.ok(fromBytes.ok);
  assert.deepEqual(fromBytes.definition, yaml.definition);
});

test('the format comes from the option, then the file name, then the first character', () => {
  const flowYaml = '{ apis: [] }';
  assert.equal(parseDefinition(flowYaml, { fileName: 'x.yaml' }).ok, true);
  assert.equal(parseDefinition(flowYaml, { format: 'yaml' }).ok, true);
  // Starts with "{": read as JSON, where unquoted keys are an error.
  expectProblem(problems(parseDefinition(flowYaml)), '', /^invalid JSON: unexpected "a"; expected a key in double quotes/, 1);
  const json = parseDefinition('\n  {"apis": []}');
  assert.ok(json.ok && json.format === 'json');
});

test('unknown keys at several depths, with suggestions for near misses', () => {
  const list = problems(
    parseDefinition(`apis:
  - name: pets
    basepath: /x
    bogus: 1
    stages:
      prod: { variabels: {} }
    routes:
      - method: GET
        path: /pets
        intgration: { type: mock }
      - method: GET
        path: /cats
        integration: { type: http_proxy, url: "http://x", timeout: 5 }
settings: { regoin: eu-west-1 }
`),
  );
  expectProblem(list, 'apis[0].basepath', 'unknown key "basepath" (did you mean "basePath"?)', 3);
  expectProblem(list, 'apis[0].bogus', 'unknown key "bogus"', 4);
  expectProblem(list, 'apis[0].stages.prod.variabels', 'unknown key "variabels" (did you mean "variables"?)', 6);
  expectProblem(list, 'apis[0].routes[0].intgration', 'unknown key "intgration" (did you mean "integration"?)', 10);
  expectProblem(list, 'apis[0].routes[0].integration', 'missing required key "integration" (a mapping)', 8);
  expectProblem(list, 'apis[0].routes[1].integration.timeout', 'unknown key "timeout" (did you mean "timeoutMs"?)', 13);
  expectProblem(list, 'settings.regoin', 'unknown key "regoin" (did you mean "region"?)', 14);
});

test('wrong types say what was expected and what was found; enums list the allowed values', () => {
  const list = problems(
    parseDefinition(`apis:
  - name: pets
    basePath: 5
    stages:
      prod:
        throttle: { rateLimit: fast, burstLimit: 1.5 }
    routes:
      - method: FETCH
        path: /pets
        integration: { type: lambda }
      - method: get
        path: ""
        integration: { type: mock, statusCode: 700, headers: { "bad header": x } }
    gatewayResponses:
      THROTTLE: {}
      NO_API: {}
`),
  );
  expectProblem(list, 'apis[0].basePath', 'expected a string, found a number (5)', 3);
  expectProblem(list, 'apis[0].stages.prod.throttle.rateLimit', 'expected a number, found a string ("fast")', 6);
  expectProblem(list, 'apis[0].stages.prod.throttle.burstLimit', 'expected an integer, found a number (1.5)', 6);
  expectProblem(
    list,
    'apis[0].routes[0].method',
    '"FETCH" is not allowed; expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY',
    8,
  );
  expectProblem(list, 'apis[0].routes[0].integration.type', '"lambda" is not allowed; expected one of http_proxy or mock', 10);
  expectProblem(list, 'apis[0].routes[1].method', /"get" is not allowed; .* \(did you mean "GET"\?\)$/, 11);
  expectProblem(list, 'apis[0].routes[1].path', 'must not be empty', 12);
  expectProblem(list, 'apis[0].routes[1].integration.statusCode', 'must be at most 599 (found 700)', 13);
  expectProblem(list, 'apis[0].routes[1].integration.headers["bad header"]', 'key "bad header" is not valid: not a valid header name', 13);
  expectProblem(list, 'apis[0].gatewayResponses.THROTTLE', 'unknown key "THROTTLE" (did you mean "THROTTLED"?)', 15);
  expectProblem(list, 'apis[0].gatewayResponses.NO_API', 'gateway response type "NO_API" cannot be customised per API', 16);
});

test('problems come sorted by position and format one per line with the file name', () => {
  const list = problems(parseDefinition('apis:\n  - name: "bad name!"\n    stages: {}\n    routes: []\n    zzz: 1\n'));
  assert.deepEqual(
    list.map((p) => [p.line, p.path]),
    [
      [2, 'apis[0].name'],
      [5, 'apis[0].zzz'],
    ],
  );
  assert.equal(
    formatProblems(list, 'pets.yaml'),
    'pets.yaml:2:5 apis[0].name: names are 1-128 letters, digits, ".", "_" or "-" (found "bad name!")\n' +
      'pets.yaml:5:5 apis[0].zzz: unknown key "zzz"',
  );
  assert.equal(formatProblems([{ path: 'apis', message: 'x' }]), 'apis: x');
  assert.equal(formatProblems([{ path: '', message: 'too big' }], 'a.json'), 'a.json too big');
  const error = new DefinitionError(list, 'pets.yaml');
  assert.equal(error.code, 'INVALID_DEFINITION');
  assert.equal(error.problems, list);
  assert.match(error.message, /^invalid API definition pets\.yaml \(2 problems\):\npets\.yaml:2:5 /);
});

test('JSON problems carry JSON positions, and duplicate keys are refused', () => {
  const json = `{
  "apis": [
    {
      "name": "pets",
      "stages": {},
      "routes": [
        { "method": "GET", "path": "/pets", "integration": { "type": "mock", "statusCode": "200" } }
      ]
    }
  ]
}`;
  expectProblem(problems(parseDefinition(json)), 'apis[0].routes[0].integration.statusCode', 'expected a number, found a string ("200")', 7);

  const duplicated = '{\n  "apis": [],\n  "settings": { "region": "a", "region": "b" }\n}';
  expectProblem(problems(parseDefinition(duplicated)), 'settings.region', 'duplicate key "region": a key may appear only once in an object', 3);
  // Keys are compared after unescaping, as JSON.parse sees them.
  expectProblem(problems(parseDefinition('{"apis": [], "ap\\u0069s": []}')), 'apis', /^duplicate key "apis"/, 1);
});

test('malformed JSON is reported with its line and column', () => {
  const cases: Array<[string, RegExp, number, number]> = [
    ['{\n  "apis": [1,]\n}', /trailing commas are not JSON/, 2, 14],
    ['{\n  "apis": []\n  "x": 1\n}', /expected "," or "}" after a value/, 3, 3],
    ['{"apis": [\n', /unexpected end of input/, 2, 1],
    ['{"apis": "a\nb"}', /control character/, 1, 12],
    ['{"apis": []} x', /after the end of the JSON value/, 1, 14],
    ["{'apis': []}", /expected a key in double quotes/, 1, 2],
  ];
  for (const [text, message, line, column] of cases) {
    const [p] = problems(parseDefinition(text));
    assert.match(p.message, message, text);
    assert.deepEqual([p.line, p.column], [line, column], text);
  }
});

test('malformed YAML is reported with the parser message and its position', () => {
  const tab = problems(parseDefinition('apis:\n\t- name: x\n'));
  assert.match(tab[0].message, /tab/i);
  assert.equal(tab[0].line, 2);

  const unclosed = problems(parseDefinition('apis: [\n  { name: x\n'));
  assert.ok(unclosed.length >= 1);
  assert.ok(unclosed.every((p) => p.line !== undefined));

  const duplicate = problems(parseDefinition('apis: []\nsettings:\n  region: a\n  region: b\n'));
  expectProblem(duplicate, 'settings.region', 'duplicate key "region": a key may appear only once in a mapping', 4);

  const twoDocs = problems(parseDefinition('apis: []\n---\napis: []\n'));
  expectProblem(twoDocs, '', /more than one YAML document/, 2);

  const tagged = problems(parseDefinition('apis: !include other.yaml\n'));
  expectProblem(tagged, 'apis', /Unresolved tag: !include/, 1);

  const listKey = problems(parseDefinition('? [a, b]\n: 1\napis: []\n'));
  expectProblem(listKey, '', /a key must be a plain name/, 1);

  expectProblem(problems(parseDefinition('')), '', 'the definition is empty: it needs at least an "apis" list', 1);
  expectProblem(problems(parseDefinition('# nothing\n')), '', /is empty/, 1);
  expectProblem(problems(parseDefinition('- a\n')), '', 'the definition must be a mapping with an "apis" key (found a list)');
  expectProblem(problems(parseDefinition('hello')), '', /must be a mapping .*found a string/);
});

test('anchors, aliases and merge keys work within limits', () => {
  const result = parseDefinition(`x-backend: &backend { type: http_proxy, url: "http://127.0.0.1:3000/x", timeoutMs: 1000 }
apis:
  - name: a
    stages: { prod: {} }
    routes:
      - { method: GET, path: /a, integration: *backend }
      - method: GET
        path: /b
        integration:
          <<: *backend
          timeoutMs: 2000
`);
  // x-backend is not a key of the definition: anchors need a home, and this one is refused as unknown.
  expectProblem(problems(result), 'x-backend', 'unknown key "x-backend"', 1);

  const ok = parseDefinition(`apis:
  - name: a
    stages: { prod: {} }
    routes:
      - { method: GET, path: /a, integration: &backend { type: http_proxy, url: "http://127.0.0.1:3000/x", timeoutMs: 1000 } }
      - method: GET
        path: /b
        integration:
          <<: *backend
          timeoutMs: 2000
`);
  assert.ok(ok.ok, ok.ok ? '' : formatProblems(ok.problems));
  const [a, b] = ok.definition.apis[0].routes;
  assert.equal(a.integration.type === 'http_proxy' && a.integration.timeoutMs, 1000);
  assert.equal(b.integration.type === 'http_proxy' && b.integration.timeoutMs, 2000);
  assert.equal(b.integration.type === 'http_proxy' && b.integration.url, 'http://127.0.0.1:3000/x');

  // A problem inside a merged mapping is located at the merge's source.
  const merged = problems(
    parseDefinition(`apis:
  - name: a
    stages: { prod: {} }
    routes:
      - { method: GET, path: /a, integration: &backend { type: http_proxy, url: "http://127.0.0.1:3000/x", timeoutMs: 1 } }
      - method: GET
        path: /b
        integration: { <<: *backend }
`),
  );
  expectProblem(merged, 'apis[0].routes[0].integration.timeoutMs', 'must be at least 50 (found 1)', 5);
  expectProblem(merged, 'apis[0].routes[1].integration.timeoutMs', 'must be at least 50 (found 1)', 5);
});

test('an alias bomb ("billion laughs") is refused before it is expanded', () => {
  const levels = ['a: &l0 [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i <= 9; i++) levels.push(`l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]`);
  const started = Date.now();
  const list = problems(parseDefinition(`${levels.join('\n')}\napis: []\n`));
  expectProblem(list, '', /aliases would expand the document from \d+ to more than 10\^15 nodes|aliases would expand the document/, 10);
  assert.match(list[0].message, /alias bomb \("billion laughs"\)/);
  assert.ok(Date.now() - started < 10_000);

  const cycle = problems(parseDefinition('apis: &a [*a]\n'));
  expectProblem(cycle, 'apis[0]', /alias \*a is inside the node it refers to/, 1);
  expectProblem(problems(parseDefinition('apis: *nothing\n')), 'apis', /alias \*nothing refers to no anchor/, 1);

  const many = `apis: []\nlist: &one [1]\nmore: [${Array(10_001).fill('*one').join(', ')}]\n`;
  expectProblem(problems(parseDefinition(many)), '', 'the document has 10,001 aliases (*name); the limit is 10,000');
});

test('a definition over the size limit is refused before parsing', () => {
  // 50 MiB of text that would be slow to parse: the answer comes from its length alone.
  const huge = `apis: [${'{}, '.repeat((50 * 1024 * 1024) / 4)}]`;
  const started = Date.now();
  const list = problems(parseDefinition(huge));
  assert.deepEqual(list, [{ path: '', message: 'the definition is 50.0 MB; the limit is 20 MB' }]);
  const bytes = problems(parseDefinition(new Uint8Array(50 * 1024 * 1024)));
  assert.equal(bytes[0].message, 'the definition is 50.0 MB; the limit is 20 MB');
  assert.ok(Date.now() - started < 5_000);
  assert.equal(problems(parseDefinition('apis: []', { maxBytes: 4 }))[0].message, 'the definition is 8 bytes; the limit is 4 bytes');
});

test('NUL bytes and invalid UTF-8 are refused clearly', () => {
  expectProblem(problems(parseDefinition('apis: []\nx: "\u0000"\n')), '', 'the definition contains a NUL character: it must be UTF-8 text', 2);
  const invalid = problems(parseDefinition(new Uint8Array([0x61, 0x70, 0x69, 0x73, 0x3a, 0x0a, 0x20, 0xc3, 0x28])));
  expectProblem(invalid, '', 'the definition is not valid UTF-8 text: byte 0xc3 at offset 7', 2);
  assert.equal(invalid[0].column, 2);
  const utf16 = problems(parseDefinition(new Uint8Array([0xff, 0xfe, 0x61, 0x00])));
  assert.match(utf16[0].message, /looks like UTF-16/);
  // Overlong encodings and encoded surrogates are not UTF-8 either.
  assert.equal(parseDefinition(new Uint8Array([0xc0, 0xaf])).ok, false);
  assert.equal(parseDefinition(new Uint8Array([0xed, 0xa0, 0x80])).ok, false);
});

test('"__proto__" keys are refused instead of silently vanishing from records', () => {
  const yaml = problems(parseDefinition('apis:\n  - name: a\n    stages:\n      __proto__: {}\n    routes: []\n'));
  expectProblem(yaml, 'apis[0].stages.__proto__', /^the key "__proto__" is not allowed/, 4);
  const json = problems(parseDefinition('{"apis": [{"name": "a", "stages": {"p": {"variables": {"__proto__": "x"}}}, "routes": []}]}'));
  expectProblem(json, 'apis[0].stages.p.variables.__proto__', /^the key "__proto__" is not allowed/, 1);
  assert.equal(({} as Record<string, unknown>).variables, undefined);
});

test('deep nesting is refused instead of overflowing the stack', () => {
  const deep = `{"apis": [], "x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  expectProblem(problems(parseDefinition(deep)), '', /nested more than 512 levels deep/, 1);
  for (const deepYaml of [
    `apis: []\nx: ${'['.repeat(2_000)}${']'.repeat(2_000)}\n`,
    `apis: []\nx: ${'{a: '.repeat(50_000)}1${'}'.repeat(50_000)}\n`,
    `apis: []\nx:\n${Array.from({ length: 600 }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n')}\n`,
  ]) {
    const list = problems(parseDefinition(deepYaml));
    assert.equal(list.length, 1, formatProblems(list));
    assert.equal(list[0].message, 'nested more than 512 levels deep');
    assert.equal(list[0].path, '');
  }
});

test('a broken definition reports at most 1,000 problems and says how many more there are', () => {
  const routes = Array.from({ length: 1_500 }, (_, i) => ({ method: 'GET', path: `/r${i}`, integration: { type: 'mock', bad: 1 } }));
  const list = problems(parseDefinition(JSON.stringify({ apis: [{ name: 'a', stages: {}, routes }] }, null, 1)));
  assert.equal(list.length, 1_001);
  assert.deepEqual(list[1_000], { path: '', message: 'and 500 more problems' });
  assert.equal(list[0].path, 'apis[0].routes[0].integration.bad');
});

test('a definition with 100,000 routes loads (JSON)', () => {
  const routes = Array.from({ length: 100_000 }, (_, i) => ({
    method: i % 2 ? 'GET' : 'POST',
    path: `/r${i >> 1}/{id}`,
    integration: { type: 'http_proxy', url: `\${stageVariables.backend}/r${i >> 1}/{id}` },
  }));
  const definition = { apis: [{ name: 'big', stages: { prod: { variables: { backend: 'http://127.0.0.1:3000' } } }, routes }] };
  const json = parseDefinition(JSON.stringify(definition, null, 1));
  assert.ok(json.ok, json.ok ? '' : formatProblems(json.problems.slice(0, 5)));
  assert.equal(json.definition.apis[0].routes.length, 100_000);

  // One route too many across APIs is one clear problem.
  const extra = { name: 'more', basePath: '/more', stages: {}, routes: [{ method: 'GET', path: '/x', integration: { type: 'mock' } }] };
  const over = problems(parseDefinition(JSON.stringify({ apis: [...definition.apis, extra] })));
  assert.deepEqual(
    over.map((p) => [p.path, p.message, p.line]),
    [['apis', 'the definition has 100,001 routes in total; the limit is 100,000', 1]],
  );
});

test('a YAML definition with 10,000 routes loads', () => {
  const routes = Array.from({ length: 10_000 }, (_, i) => ({ method: 'GET', path: `/r${i}`, integration: { type: 'mock' } }));
  const result = parseDefinition(stringify({ apis: [{ name: 'big', stages: { prod: {} }, routes }] }));
  assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems.slice(0, 5)));
});
