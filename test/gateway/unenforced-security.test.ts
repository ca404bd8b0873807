// A definition that asks for security no registered stage enforces is refused whole, and the running
// revision keeps serving: a route is never silently left open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefinitionSchema, type Definition } from '../../src/config/schema.ts';
import { DefinitionError } from '../../src/config/load.ts';
import { compileSnapshot } from '../../src/gateway/snapshot.ts';
import { createUpstreamPools } from '../../src/gateway/integrations/upstream-pools.ts';

function compileWithNoStages(def: unknown) {
  const pools = createUpstreamPools();
  try {
    return compileSnapshot(DefinitionSchema.parse(def) as Definition, 1, { stageFactories: [], stageDeps: {}, pools });
  } finally {
    void pools.close();
  }
}

const api = (route: object, extra: object = {}) => ({
  apis: [{ name: 'a', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', integration: { type: 'mock' }, ...route }], ...extra }],
});

test('routes without security compile with no stages registered', () => {
  assert.equal(compileWithNoStages(api({})).routeCount, 1);
});

for (const [name, route, extra] of [
  ['auth: iam', { auth: 'iam' }, {}],
  ['auth: mtls', { auth: 'mtls' }, {}],
  ['an authorizer', { auth: { authorizer: 'jwt' } }, {}],
  ['apiKeyRequired', { apiKeyRequired: true }, {}],
  ['a resource policy', {}, { resourcePolicy: { Version: '2012-10-17', Statement: [] } }],
] as const) {
  test(`${name} that no stage enforces is refused with the route's path`, () => {
    assert.throws(
      () => compileWithNoStages(api(route, extra)),
      (err: unknown) => err instanceof DefinitionError && err.problems.some((p) => p.path === 'apis[0].routes[0]' && /not supported/.test(p.message)),
    );
  });
}
