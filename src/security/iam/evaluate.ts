// evaluate: IAM's decision over compiled policies for one request (any matching Deny wins, else any matching
// Allow, else implicit deny). Pure and allocation-light: no I/O, no clock (aws:CurrentTime is in the context).
import { accountOfArn } from './arn.ts';
import type {
  CompiledPolicy, CompiledStatement, ConditionContext, ContextValue, EvaluationRequest, EvaluationResult,
  Principal, PrincipalMatch, RequestState, ResolvedPrincipal,
} from './types.ts';

const IMPLICIT: EvaluationResult = Object.freeze({ decision: 'ImplicitDeny' });

const SESSION = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;
const FEDERATED = /^arn:([^:]+):sts::(\d{12}):federated-user\/(.+)$/;

let lastPrincipalIn: Principal | undefined;
let lastPrincipal: ResolvedPrincipal | undefined;

/** Derives what principal matching needs from the caller's ARN (memoised for the same Principal object). */
export function resolvePrincipal(p: Principal | undefined): ResolvedPrincipal | undefined {
  if (p === undefined) return undefined;
  if (p === lastPrincipalIn) return lastPrincipal;
  const accountId = p.accountId ?? accountOfArn(p.arn) ?? '';
  let r: ResolvedPrincipal = { arn: p.arn, accountId };
  const s = SESSION.exec(p.arn);
  if (s) r = { ...r, sessionRole: { partitionAccount: `arn:${s[1]}:iam::${s[2]}`, roleNameLower: s[3]!.toLowerCase() } };
  const f = FEDERATED.exec(p.arn);
  if (f) r = { ...r, federatedUserArn: `arn:${f[1]}:iam::${f[2]}:user/${f[3]}` };
  lastPrincipalIn = p;
  lastPrincipal = r;
  return r;
}

/** Builds a ConditionContext from a plain record, lower-casing keys (condition keys are case-insensitive). */
export function createConditionContext(values: Readonly<Record<string, ContextValue | undefined>>): ReadonlyMap<string, ContextValue> {
  const m = new Map<string, ContextValue>();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) m.set(k.toLowerCase(), v);
  return m;
}

function getter(ctx: ConditionContext): (k: string) => ContextValue | undefined {
  return typeof ctx === 'function' ? ctx : (k) => ctx.get(k);
}

function statementMatch(s: CompiledStatement, st: RequestState): PrincipalMatch {
  if (!s.matchesAction(st.actionLower)) return 0;
  let pm: PrincipalMatch = 2;
  if (s.matchPrincipal !== undefined) {
    pm = s.matchPrincipal(st.principal);
    if (pm === 0) return 0;
  }
  if (!s.matchesResource(st)) return 0;
  const cs = s.conditions;
  for (let i = 0; i < cs.length; i++) if (!cs[i]!(st)) return 0;
  return pm;
}

/**
 * Evaluates identity and/or resource policies (each statement according to its policy's kind) for one request.
 * Deny statements of every policy are tried first, so a matching Deny is found without scanning the Allows.
 */
export function evaluate(policies: readonly CompiledPolicy[], request: EvaluationRequest): EvaluationResult {
  const st: RequestState = {
    actionLower: request.action.toLowerCase(),
    resource: request.resource,
    fields: undefined,
    get: getter(request.context),
    principal: resolvePrincipal(request.principal),
  };
  for (let i = 0; i < policies.length; i++) {
    const ds = policies[i]!.denies;
    // A Deny naming the caller's account (not the caller) still denies: there is nothing to delegate.
    for (let j = 0; j < ds.length; j++) if (statementMatch(ds[j]!, st) !== 0) return { decision: 'ExplicitDeny', statement: ds[j]!.ref };
  }
  let accountAllow: CompiledStatement | undefined;
  for (let i = 0; i < policies.length; i++) {
    const as = policies[i]!.allows;
    for (let j = 0; j < as.length; j++) {
      const m = statementMatch(as[j]!, st);
      if (m === 2) return { decision: 'Allow', statement: as[j]!.ref };
      if (m === 1 && accountAllow === undefined) accountAllow = as[j]!;
    }
  }
  if (accountAllow !== undefined) return { decision: 'Allow', statement: accountAllow.ref, accountOnly: true };
  return IMPLICIT;
}
