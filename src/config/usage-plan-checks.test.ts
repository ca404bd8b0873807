// Usage plans in a definition: unknown APIs, stages and method keys named with their path, duplicate names,
// absurd limits, and a valid plan accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblems, parseDefinition, type DefinitionProblem } from './load.ts';

const base = `apis:
  - name: pets
    stages: { prod: {}, beta: {} }
    routes:
      - { method: GET, path: /pets, apiKeyRequired: true, integration: { type: mock } }
usagePlans:
`;

function problems(plans: string): DefinitionProblem[] {
  const r = parseDefinition(base + plans);
  return r.ok ? [] : r.problems;
}
const has = (list: DefinitionProblem[], path: string, message: RegExp) =>
  assert.ok(list.some((p) => p.path === path && message.test(p.message)), `no ${path} ${message}\n${formatProblems(list)}`);

test('a complete plan is valid', () => {
  const r = parseDefinition(base + `  - name: gold
    description: Gold customers
    apiStages:
      - { api: pets, stage: prod, throttle: { "/pets/GET": { rateLimit: 5, burstLimit: 10 } } }
      - { api: pets, stage: beta }
    throttle: { rateLimit: 100, burstLimit: 200 }
    quota: { limit: 10000, period: MONTH, offset: 100 }
    reportOnly: false
`);
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
  assert.equal(r.ok && r.definition.usagePlans[0]!.rateLimitHeaders, true);
});

test('unknown API, stage and method key are named by path, with suggestions', () => {
  const list = problems(`  - name: gold
    apiStages:
      - { api: petz, stage: prod }
      - { api: pets, stage: prd }
      - { api: pets, stage: beta, throttle: { "/pets/POST": { rateLimit: 1, burstLimit: 1 } } }
`);
  has(list, 'usagePlans[0].apiStages[0].api', /no API is named "petz" \(did you mean "pets"\?\)/);
  has(list, 'usagePlans[0].apiStages[1].stage', /API "pets" has no stage "prd"/);
  has(list, 'usagePlans[0].apiStages[2].throttle["/pets/POST"]', /names no route of "pets"/);
});

test('duplicate names, a stage listed twice, offset >= limit, negative and above-account limits', () => {
  const list = problems(`  - { name: gold, apiStages: [{ api: pets, stage: prod }, { api: pets, stage: prod }], quota: { limit: 5, period: DAY, offset: 5 } }
  - { name: gold, apiStages: [{ api: pets, stage: beta }], throttle: { rateLimit: 20000, burstLimit: 10 } }
`);
  has(list, 'usagePlans[1].name', /already used by usagePlans\[0\]/);
  has(list, 'usagePlans[0].apiStages[1]', /listed twice/);
  has(list, 'usagePlans[0].quota.offset', /must be below limit/);
  has(list, 'usagePlans[1].throttle', /may not exceed the account throttle/);
  const shape = problems(`  - { name: neg, apiStages: [{ api: pets, stage: beta }], throttle: { rateLimit: -1, burstLimit: 10 }, quota: { limit: 1, period: YEAR } }
`);
  has(shape, 'usagePlans[0].throttle.rateLimit', /at least 0/);
  has(shape, 'usagePlans[0].quota.period', /DAY, WEEK or MONTH/);
});
