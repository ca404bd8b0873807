// Resource policies in definitions: problems at their JSON path inside the definition (with the line), the
// shorthand expanded for the API, and the engine's path syntax translated to definition path segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDefinition } from './load.ts';
import { jsonPathSegments, compiledResourcePolicy } from './resource-policy-checks.ts';
import { DefinitionSchema } from './schema.ts';
import { evaluate } from '../security/iam/index.ts';

const YAML = `
apis:
  - name: pets
    stages: { prod: {} }
    routes:
      - { method: GET, path: /pets, integration: { type: mock } }
    resourcePolicy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: "*"
          Action: execute-api:Invoke
          Resource: execute-api:/*
        - Effect: Deny
          Principal: "*"
          Action: execute-api:Invoke
          Resource: execute-api:/*
          Condition:
            IpAddress:
              aws:SourceIp: ["10.0.0.0/33"]
`;

test('an invalid resource policy is refused at the path of the offending element, with its line', () => {
  const r = parseDefinition(YAML, { fileName: 'd.yaml' });
  assert.equal(r.ok, false);
  if (r.ok) return;
  const p = r.problems.find((x) => x.path.startsWith('apis[0].resourcePolicy'));
  assert.ok(p, JSON.stringify(r.problems));
  assert.equal(p.path, 'apis[0].resourcePolicy.Statement[1].Condition.IpAddress["aws:SourceIp"][0]');
  assert.match(p.message, /CIDR|10\.0\.0\.0\/33/);
  assert.equal(p.line, 20);
});

test('unknown elements, both Action and NotAction, and an oversized policy are reported', () => {
  const big = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', NotAction: 'x:y', Resource: '*', Extra: 1 }] };
  const r = parseDefinition(JSON.stringify({ apis: [{ name: 'a', stages: { p: {} }, routes: [], resourcePolicy: big }, { name: 'b', stages: { p: {} }, routes: [], resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: Array.from({ length: 200 }, (_, i) => `execute-api:/prod/GET/${'p'.repeat(40)}${i}`) }] } }] }));
  assert.equal(r.ok, false);
  if (r.ok) return;
  const paths = r.problems.map((p) => p.path);
  assert.ok(paths.some((p) => p.startsWith('apis[0].resourcePolicy.Statement[0]')), paths.join('\n'));
  assert.ok(r.problems.some((p) => p.path === 'apis[1].resourcePolicy' && /8192/.test(p.message)), JSON.stringify(r.problems));
});

test('a valid policy passes and its shorthand is expanded with the definition\'s region, account and the API id', () => {
  const r = parseDefinition(JSON.stringify({
    settings: { region: 'eu-west-1', accountId: '111122223333' },
    apis: [{ name: 'a', id: 'apiid12345', stages: { p: {} }, routes: [], resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/p/GET/*' }] } }],
  }));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  const def = DefinitionSchema.parse(r.definition);
  const policy = compiledResourcePolicy(def.apis[0]!, def.settings)!;
  const ev = (resource: string) => evaluate([policy], { action: 'execute-api:Invoke', resource, context: new Map() }).decision;
  assert.equal(ev('arn:aws:execute-api:eu-west-1:111122223333:apiid12345/p/GET/x'), 'Allow');
  assert.equal(ev('arn:aws:execute-api:us-east-1:111122223333:apiid12345/p/GET/x'), 'ImplicitDeny');
  assert.equal(ev('arn:aws:execute-api:eu-west-1:111122223333:otherapi00/p/GET/x'), 'ImplicitDeny');
  assert.equal(compiledResourcePolicy(def.apis[0]!, def.settings), policy, 'compiled once per API definition');
});

test('engine paths become definition path segments', () => {
  assert.deepEqual(jsonPathSegments(''), []);
  assert.deepEqual(jsonPathSegments('Statement[1].Condition.IpAddress["aws:SourceIp"][0]'), ['Statement', 1, 'Condition', 'IpAddress', 'aws:SourceIp', 0]);
  assert.deepEqual(jsonPathSegments('Statement.Condition["a\\"b"]'), ['Statement', 'Condition', 'a"b']);
});
