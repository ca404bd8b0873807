// Differential tests: thousands of seeded random policies and requests, evaluated by our engine and by
// @cloud-copilot/iam-simulate (AGPL, test oracle only). Every known disagreement is excluded from generation
// and pinned by its own test in documented-differences.test.ts (see docs/iam-differences.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  combineDecisions, createConditionContext, evaluate, parsePolicy, type CompiledPolicy, type Decision,
} from '../../src/security/iam/index.ts';
import {
  ACCOUNT, ALLOW_ALL, Gen, PRINCIPALS_OTHER, PRINCIPALS_SAME, REQUEST_ACTIONS, context, createRng, policy, requestResource,
} from './generate.ts';
import { oracle } from './oracle.ts';

const SEED = Number(process.env.IAM_DIFF_SEED ?? 20261124);
const PER_MODE = Number(process.env.IAM_DIFF_CASES ?? 2500);

function compile(doc: unknown, kind: 'identity' | 'resource'): CompiledPolicy {
  const r = parsePolicy(doc, { kind });
  if (!r.ok) throw new Error(`generated policy rejected: ${JSON.stringify(r.problems)}\n${JSON.stringify(doc)}`);
  return r.policy;
}

interface Case {
  readonly principal?: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string | string[]>;
  readonly identity: unknown[];
  readonly resourcePolicy?: unknown;
}

type Mode = 'identity' | 'resource-anonymous' | 'resource-cross-account' | 'combined-same-account' | 'combined-cross-account';

function generate(g: Gen, mode: Mode): Case {
  const base = { action: g.jumble(g.pick(REQUEST_ACTIONS)), resource: requestResource(g), context: context(g) };
  switch (mode) {
    case 'identity':
      return { ...base, principal: g.pick(PRINCIPALS_SAME), identity: Array.from({ length: g.int(1, 2) }, () => policy(g, 'identity')) };
    case 'resource-anonymous':
      return { ...base, identity: [], resourcePolicy: policy(g, 'resource') };
    case 'resource-cross-account':
      return { ...base, principal: g.pick(PRINCIPALS_OTHER), identity: [ALLOW_ALL], resourcePolicy: policy(g, 'resource') };
    case 'combined-same-account':
      return { ...base, principal: g.pick(PRINCIPALS_SAME), identity: [policy(g, 'identity')], resourcePolicy: policy(g, 'resource') };
    case 'combined-cross-account':
      // Both sides must allow across accounts: half of the identity sides allow everything, or Allows are rare.
      return { ...base, principal: g.pick(PRINCIPALS_OTHER), identity: [g.chance(0.5) ? ALLOW_ALL : policy(g, 'identity')], resourcePolicy: policy(g, 'resource') };
  }
}

function ours(c: Case, mode: Mode): Decision {
  const request = {
    ...(c.principal ? { principal: { arn: c.principal } } : {}),
    action: c.action,
    resource: c.resource,
    context: createConditionContext(c.context),
  };
  if (mode === 'identity') return evaluate(c.identity.map((d) => compile(d, 'identity')), request).decision;
  const resource = evaluate([compile(c.resourcePolicy, 'resource')], request);
  if (mode === 'resource-anonymous') {
    return combineDecisions({ resource, sameAccount: false, authType: 'none', resourceArn: c.resource }).decision;
  }
  const identity = evaluate(c.identity.map((d) => compile(d, 'identity')), request);
  const sameAccount = c.principal!.includes(`::${ACCOUNT}:`);
  return combineDecisions({ identity, resource, sameAccount, authType: 'iam', resourceArn: c.resource, principalArn: c.principal }).decision;
}

const MODES: Mode[] = ['identity', 'resource-anonymous', 'resource-cross-account', 'combined-same-account', 'combined-cross-account'];

for (const [m, mode] of MODES.entries()) {
  test(`differential vs iam-simulate: ${mode} (${PER_MODE} seeded cases)`, () => {
    const g = new Gen(createRng(SEED + m));
    const mismatches: string[] = [];
    const tally: Record<Decision, number> = { Allow: 0, ExplicitDeny: 0, ImplicitDeny: 0 };
    for (let i = 0; i < PER_MODE; i++) {
      const c = generate(g, mode);
      const mine = ours(c, mode);
      const theirs = oracle({
        ...(c.principal ? { principal: c.principal } : {}),
        action: c.action, resource: c.resource, context: c.context, identityPolicies: c.identity,
        ...(c.resourcePolicy !== undefined ? { resourcePolicy: c.resourcePolicy } : {}),
      });
      tally[mine]++;
      if (mine !== theirs && mismatches.length < 5) {
        mismatches.push(`case ${i}: ours=${mine} oracle=${theirs}\n${JSON.stringify(c, null, 1)}`);
      }
    }
    assert.deepEqual(mismatches, [], mismatches.join('\n\n'));
    // The generator must exercise every outcome, or the comparison proves little.
    for (const d of ['Allow', 'ExplicitDeny', 'ImplicitDeny'] as const) {
      assert.ok(tally[d] > PER_MODE * 0.02, `${mode}: only ${tally[d]} ${d} outcomes in ${PER_MODE} cases: ${JSON.stringify(tally)}`);
    }
  });
}
