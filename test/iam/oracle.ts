// Test-only wrapper around @cloud-copilot/iam-simulate (AGPL-3.0): the reference evaluator our engine is
// compared with. Never import this (or the package) from src/.
import { anonymousPrincipal, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { Decision } from '../../src/security/iam/index.ts';
import { ACCOUNT } from './generate.ts';

export interface OracleRequest {
  /** Undefined = anonymous. */
  readonly principal?: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string | string[]>;
  readonly identityPolicies: readonly unknown[];
  readonly resourcePolicy?: unknown;
  /** Account that owns the API; defaults to the generator's ACCOUNT. */
  readonly resourceAccount?: string;
}

const MAP: Record<string, Decision> = {
  Allowed: 'Allow',
  ExplicitlyDenied: 'ExplicitDeny',
  ImplicitlyDenied: 'ImplicitDeny',
};

export function oracle(req: OracleRequest): Decision {
  const sim: Simulation = {
    request: {
      principal: req.principal ?? anonymousPrincipal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount ?? ACCOUNT },
      contextVariables: req.context,
    },
    identityPolicies: req.identityPolicies.map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    // Quirk (0.1.173): runUnsafeSimulation loads the resource policy without metadata and then reads
    // metadata().name, which throws. A "validated policy" envelope carries the metadata it needs.
    ...(req.resourcePolicy !== undefined
      ? { resourcePolicy: { __validated: true, policyDocument: req.resourcePolicy, metadata: { name: 'resource-policy' } } }
      : {}),
  };
  const r = runUnsafeSimulation(sim, {}) as unknown;
  const d = MAP[String(r)];
  if (!d) throw new Error(`iam-simulate returned ${JSON.stringify(r)}`);
  return d;
}
