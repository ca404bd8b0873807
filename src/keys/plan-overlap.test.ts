import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subscriptionOverlaps } from './plan-overlap.ts';

const plan = (name: string, ...stages: string[]) => ({ name, apiStages: stages.map((s) => ({ api: s.split('/')[0]!, stage: s.split('/')[1]! })) });

test('plans without a shared API stage need no store query; shared stages name the keys in both plans', async () => {
  const asked: string[] = [];
  const subscribers = async (p: string) => (asked.push(p), ({ a: ['k1', 'k2', 'k3'], b: ['k2', 'k3', 'k9'], c: ['k1'] } as Record<string, string[]>)[p] ?? []);
  const defOf = (...plans: ReturnType<typeof plan>[]) => ({ usagePlans: plans }) as unknown as Parameters<typeof subscriptionOverlaps>[0];

  assert.deepEqual(await subscriptionOverlaps(defOf(plan('a', 'pets/prod'), plan('b', 'pets/beta'), plan('c', 'shop/prod')), subscribers), []);
  assert.deepEqual(asked, [], 'no stage shared: the store is not asked');

  const problems = await subscriptionOverlaps(defOf(plan('a', 'pets/prod'), plan('b', 'pets/beta', 'pets/prod'), plan('c', 'shop/prod')), subscribers);
  assert.deepEqual(problems.map((p) => p.path), ['usagePlans[1].apiStages']);
  assert.match(problems[0]!.message, /^plans "a" and "b" would both cover API stage pets\/prod, and 2 keys k2, k3 are subscribed to both;/);
  assert.deepEqual(asked.sort(), ['a', 'b'], 'only the plans that share a stage');

  const many = async () => Array.from({ length: 8 }, (_, i) => `k${i}`);
  const [p] = await subscriptionOverlaps(defOf(plan('a', 'x/y'), plan('b', 'x/y')), many);
  assert.match(p!.message, /8 keys k0, k1, k2, k3, k4 and 3 more are subscribed/);
});
