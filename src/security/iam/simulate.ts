// The policy simulator behind `portcullis policy simulate` and POST /v1/iam/simulate (like AWS's IAM policy
// simulator): evaluates identity policies and a resource policy for one request, combines them per API
// Gateway's tables, and says for every statement whether it matched and, if not, which element did not.
// Pure: the caller supplies the time. Explanations come from the engine itself (each element is evaluated on
// its own as a one-element statement), so they cannot drift from what the gateway decides.
import { buildInvocationArn } from './arn.ts';
import { combineDecisions, type AuthType, type CombinedDecision } from './combine.ts';
import { createConditionContext, evaluate } from './evaluate.ts';
import { parsePolicy } from './parse.ts';
import type { ApiArnContext, CompiledPolicy, ContextValue, Decision, EvaluationResult, PolicyKind, Problem } from './types.ts';

export interface SimulatedPrincipal {
  /** arn:aws:iam::<account>:user/<name>, ...:role/<name>, arn:aws:sts::<account>:assumed-role/<role>/<session>. */
  readonly arn: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** aws:userid; defaults to the ARN's last segment. */
  readonly userid?: string;
}

export interface SimulateInput {
  /** Identity policies of the caller (IAM auth). */
  readonly identityPolicies?: readonly { readonly name: string; readonly document: unknown }[];
  /** The API's resource policy, if any (shorthand `execute-api:/...` expanded with `api`). */
  readonly resourcePolicy?: unknown;
  /** Absent: an anonymous caller (auth none, or any non-IAM authorizer). */
  readonly principal?: SimulatedPrincipal;
  readonly api: ApiArnContext;
  readonly stage: string;
  readonly method: string;
  /** The real request path, e.g. /pets/42. */
  readonly path: string;
  /** Condition keys (aws:SourceIp, aws:SecureTransport, ...); the aws:Principal* keys come from `principal`. */
  readonly context?: Readonly<Record<string, ContextValue>>;
  /** Default: 'iam' with a principal, else 'none'. 'lambda'/'cognito' take `identityDecision`. */
  readonly authType?: AuthType;
  /** For authType lambda/cognito: what the authorizer decided. */
  readonly identityDecision?: Decision;
  /** aws:CurrentTime and aws:EpochTime unless `context` sets them. */
  readonly nowMs: number;
}

export interface StatementReport {
  readonly policy: string;
  readonly kind: PolicyKind;
  readonly index: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  readonly matched: boolean;
  /** This statement decided the outcome: the Deny that refused, or the Allow(s) that granted it. */
  readonly deciding: boolean;
  /** Why it did not match (or, for an account-level principal, what that means); empty when it matched. */
  readonly reasons: readonly string[];
}

export type SimulateResult =
  | {
    readonly ok: true;
    readonly methodArn: string;
    readonly action: string;
    readonly authType: AuthType;
    readonly sameAccount: boolean;
    readonly identity: EvaluationResult | null;
    readonly resource: EvaluationResult | null;
    readonly decision: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
    /** The client-visible denial (status 403, AccessDeniedException) when the request is refused. */
    readonly denial: { readonly message: string; readonly detail: string } | null;
    readonly grantedBy?: string;
    readonly statements: readonly StatementReport[];
  }
  | { readonly ok: false; readonly problems: readonly (Problem & { readonly policy: string })[] };

const ACTION = 'execute-api:Invoke';

function principalContext(p: SimulatedPrincipal): Record<string, ContextValue> {
  const m = /^arn:[^:]+:(iam|sts)::(\d{12}):(user|role|assumed-role|federated-user)\/(.*)$/.exec(p.arn);
  const out: Record<string, ContextValue> = { 'aws:PrincipalArn': p.arn };
  if (m) {
    out['aws:PrincipalAccount'] = m[2]!;
    const kind = m[3]!;
    const rest = m[4]!;
    out['aws:PrincipalType'] = kind === 'user' ? 'User' : kind === 'federated-user' ? 'FederatedUser' : 'AssumedRole';
    if (kind === 'user') out['aws:username'] = rest.slice(rest.lastIndexOf('/') + 1);
    out['aws:userid'] = p.userid ?? rest.slice(rest.lastIndexOf('/') + 1);
  } else if (p.userid !== undefined) out['aws:userid'] = p.userid;
  for (const [k, v] of Object.entries(p.tags ?? {})) out[`aws:PrincipalTag/${k}`] = v;
  return out;
}

const ELEMENT_PAIRS = [['Principal', 'NotPrincipal'], ['Action', 'NotAction'], ['Resource', 'NotResource']] as const;

/** One statement reduced to a single element (the rest wildcards), compiled with the same engine. */
function probe(kind: PolicyKind, version: unknown, element: Record<string, unknown>, api: ApiArnContext): CompiledPolicy | undefined {
  const st: Record<string, unknown> = { Effect: 'Allow', Action: '*', Resource: '*', ...(kind === 'resource' ? { Principal: '*' } : {}) };
  for (const [a, b] of ELEMENT_PAIRS) if (a in element || b in element) { delete st[a]; delete st[b]; }
  const r = parsePolicy({ ...(version !== undefined ? { Version: version } : {}), Statement: [{ ...st, ...element }] }, { kind, api, maxChars: Infinity });
  return r.ok ? r.policy : undefined;
}

function explain(
  kind: PolicyKind, raw: Record<string, unknown>, version: unknown, api: ApiArnContext,
  req: Parameters<typeof evaluate>[1],
): { matched: boolean; accountOnly: boolean; reasons: string[] } {
  const reasons: string[] = [];
  const fails = (element: Record<string, unknown>) => {
    const p = probe(kind, version, element, api);
    return p === undefined ? false : evaluate([p], req).decision !== 'Allow';
  };
  let accountOnly = false;
  for (const [a, b] of ELEMENT_PAIRS) {
    const name = a in raw ? a : b in raw ? b : undefined;
    if (name === undefined) continue;
    const element = { [name]: raw[name] };
    if (fails(element)) {
      const what = a === 'Principal' ? `the caller (${req.principal?.arn ?? 'anonymous'})` : a === 'Action' ? req.action : req.resource;
      reasons.push(`${name} ${name.startsWith('Not') ? 'lists' : 'does not match'} ${what}`);
    } else if (a === 'Principal') {
      const p = probe(kind, version, element, api);
      if (p && evaluate([p], req).accountOnly) accountOnly = true;
    }
  }
  const cond = raw.Condition;
  if (cond !== null && typeof cond === 'object') {
    for (const [op, block] of Object.entries(cond as Record<string, unknown>)) {
      if (block === null || typeof block !== 'object') continue;
      for (const [key, values] of Object.entries(block as Record<string, unknown>)) {
        if (!fails({ Condition: { [op]: { [key]: values } } })) continue;
        const actual = typeof req.context === 'function' ? req.context(key.toLowerCase()) : req.context.get(key.toLowerCase());
        reasons.push(`Condition ${op} ${JSON.stringify(key)} ${JSON.stringify(values)} is false: the request has ${actual === undefined ? `no ${key}` : `${key} = ${JSON.stringify(actual)}`}`);
      }
    }
  }
  return { matched: reasons.length === 0, accountOnly, reasons };
}

export function simulatePolicies(input: SimulateInput): SimulateResult {
  const { api } = input;
  const problems: (Problem & { policy: string })[] = [];
  const identity: { name: string; raw: unknown; policy: CompiledPolicy }[] = [];
  for (const p of input.identityPolicies ?? []) {
    const r = parsePolicy(p.document, { kind: 'identity', policyId: p.name });
    if (r.ok) identity.push({ name: p.name, raw: typeof p.document === 'string' ? JSON.parse(p.document) : p.document, policy: r.policy });
    else problems.push(...r.problems.map((x) => ({ ...x, policy: p.name })));
  }
  let resource: { raw: unknown; policy: CompiledPolicy } | undefined;
  if (input.resourcePolicy !== undefined && input.resourcePolicy !== null) {
    const r = parsePolicy(input.resourcePolicy, { kind: 'resource', policyId: 'resource policy', api });
    if (r.ok) resource = { raw: typeof input.resourcePolicy === 'string' ? JSON.parse(input.resourcePolicy) : input.resourcePolicy, policy: r.policy };
    else problems.push(...r.problems.map((x) => ({ ...x, policy: 'resource policy' })));
  }
  if (problems.length) return { ok: false, problems };

  const methodArn = buildInvocationArn({ region: api.region, accountId: api.accountId, apiId: api.apiId, stage: input.stage, method: input.method, path: input.path, partition: api.partition });
  const ctxValues: Record<string, ContextValue> = {
    'aws:CurrentTime': new Date(Math.floor(input.nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    'aws:EpochTime': String(Math.floor(input.nowMs / 1000)),
    ...(input.principal ? principalContext(input.principal) : {}),
    ...input.context,
  };
  const context = createConditionContext(ctxValues);
  const principal = input.principal ? { arn: input.principal.arn } : undefined;
  const req = { principal, action: ACTION, resource: methodArn, context };
  const authType: AuthType = input.authType ?? (input.principal ? 'iam' : 'none');
  const callerAccount = typeof ctxValues['aws:PrincipalAccount'] === 'string' ? ctxValues['aws:PrincipalAccount'] : undefined;
  const sameAccount = authType !== 'iam' || callerAccount === api.accountId;

  const idResult: EvaluationResult | undefined = authType === 'iam'
    ? evaluate(identity.map((x) => x.policy), req)
    : authType === 'none' ? undefined : { decision: input.identityDecision ?? 'Allow' };
  const resResult = resource ? evaluate([resource.policy], req) : undefined;
  const combined: CombinedDecision = combineDecisions({
    identity: idResult, resource: resResult, sameAccount, authType, resourceArn: methodArn,
    principalArn: input.principal?.arn,
  });

  // The statements behind the final outcome: the side that denied, or the side(s) that granted.
  const deciders: (EvaluationResult | undefined)[] = combined.allowed
    ? [combined.grantedBy === 'identity' || combined.grantedBy === 'both' ? idResult : undefined, combined.grantedBy === 'resource' || combined.grantedBy === 'both' ? resResult : undefined]
    : [combined.deniedBy === 'identity' ? idResult : resResult];
  const decidingRef = (kind: PolicyKind, name: string, index: number) => deciders.some((d) =>
    d?.statement !== undefined && d.statement.index === index && d.statement.policyId === name && (d === idResult) === (kind === 'identity'));

  const statements: StatementReport[] = [];
  const report = (kind: PolicyKind, name: string, raw: unknown) => {
    const doc = raw as { Version?: unknown; Statement?: unknown };
    const list = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    list.forEach((s, index) => {
      const st = s as Record<string, unknown>;
      const e = explain(kind, st, doc.Version, api, req);
      const sid = typeof st.Sid === 'string' ? st.Sid : undefined;
      const reasons = e.matched && e.accountOnly && st.Effect === 'Allow'
        ? ['Principal names the caller\'s account, not the caller: in the same account this delegates to the identity policies']
        : e.reasons;
      statements.push({
        policy: name, kind, index, ...(sid !== undefined ? { sid } : {}), effect: st.Effect as 'Allow' | 'Deny', matched: e.matched,
        deciding: decidingRef(kind, name, index),
        reasons,
      });
    });
  };
  for (const p of identity) report('identity', p.name, p.raw);
  if (resource) report('resource', 'resource policy', resource.raw);

  return {
    ok: true, methodArn, action: ACTION, authType, sameAccount,
    identity: authType === 'iam' ? idResult ?? null : idResult ?? null,
    resource: resResult ?? null,
    decision: combined.decision,
    denial: combined.allowed ? null : { message: combined.denial.message ?? '', detail: combined.denial.detail ?? '' },
    ...(combined.allowed ? { grantedBy: combined.grantedBy } : {}),
    statements,
  };
}
