// The request lifecycle in one place: the phases in the order every request goes through them.
// docs/lifecycle.md draws it; test/unit/phases.test.ts pins it. Later capabilities add stages to a
// phase (stages/index.ts) without reshaping the core.

export const PHASES = [
  /** 0. TLS handshake, SNI certificate, mTLS client-certificate check (listener). */
  'connection',
  /** 1. Request id, HTTP sanity and size limits, host + base path -> API and stage (dispatcher). */
  'request',
  /** 2. Route match: method + path template, greedy {proxy+} (dispatcher). */
  'route',
  /** 3. Resource policy pre-check: explicit Deny on source IP, TLS, time... before any authorizer runs. */
  'resource-policy',
  /** 4. Authentication: none / API key only / JWT / IAM SigV4 / custom authorizer / mTLS identity. */
  'authenticate',
  /** 5. Authorization: identity decision combined with the resource policy, scopes. */
  'authorize',
  /** 6. API key (header or authorizer) -> usage plan for this API stage. */
  'api-key',
  /** 7. Throttles (plan per key and method, stage/route, account), then quota. */
  'throttle',
  /** 8. Request validation: parameters, then JSON Schema body. */
  'validate',
  /** 9. Integration: HTTP proxy or mock (terminal). */
  'integration',
  /** 10. Log phase, always runs: access log, metrics, usage, anomaly feed. */
  'log',
] as const;

export type Phase = (typeof PHASES)[number];

/** Phases whose work is done per route by pluggable stages (the rest are built into the server). */
export const STAGE_PHASES = ['resource-policy', 'authenticate', 'authorize', 'api-key', 'throttle', 'validate'] as const satisfies readonly Phase[];
export type StagePhase = (typeof STAGE_PHASES)[number];

export function phaseIndex(p: Phase): number {
  return PHASES.indexOf(p);
}
