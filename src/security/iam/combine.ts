// Combines the identity-side decision (IAM identity policies, a Lambda authorizer's policy or the Cognito
// result) with the resource policy per API Gateway's outcome tables [reference §6.1-6.2], with AWS's texts.
import type { Denial } from '../../core/denial.ts';
import type { Decision, EvaluationResult, StatementRef } from './types.ts';

export type AuthType = 'iam' | 'lambda' | 'cognito' | 'none';

export interface CombineInput {
  /**
   * IAM: evaluate(identity policies). Lambda: evaluate(the authorizer's policy). Cognito: 'Allow' once the
   * token is valid. None: leave undefined. A bare Decision or a full EvaluationResult (for log details).
   */
  readonly identity?: Decision | EvaluationResult;
  /** evaluate(resource policy) for the request; undefined when the API has no resource policy. */
  readonly resource?: Decision | EvaluationResult;
  /**
   * Caller and API in the same account: Table A (either side may allow). Otherwise Table B (both must).
   * Ignored for authType 'none'. For Lambda/Cognito the caller has no account of its own: pass true.
   */
  readonly sameAccount: boolean;
  readonly authType: AuthType;
  /** The method ARN, quoted in the message. */
  readonly resourceArn: string;
  /** The IAM caller's ARN, quoted in IAM messages; anonymous for every other auth type. */
  readonly principalArn?: string;
  /** Defaults to execute-api:Invoke. */
  readonly action?: string;
  /** Private APIs refuse every call until a resource policy is attached [reference §6.2]. */
  readonly privateApi?: boolean;
}

export type CombinedDecision =
  | {
    readonly allowed: true;
    readonly decision: 'Allow';
    /** Which side's Allow let the call through ('none' = no policy applies: NONE auth and no resource policy). */
    readonly grantedBy: 'identity' | 'resource' | 'both' | 'none';
  }
  | {
    readonly allowed: false;
    readonly decision: 'ExplicitDeny' | 'ImplicitDeny';
    readonly deniedBy: 'identity' | 'resource';
    /** ACCESS_DENIED with AWS's message (and message key) for this case; detail is for logs only. */
    readonly denial: Denial;
  };

interface Side { readonly decision: Decision; readonly accountOnly: boolean; readonly statement?: StatementRef }

function side(v: Decision | EvaluationResult | undefined): Side {
  if (v === undefined) return { decision: 'ImplicitDeny', accountOnly: false };
  if (typeof v === 'string') return { decision: v, accountOnly: false };
  return { decision: v.decision, accountOnly: v.accountOnly === true, ...(v.statement ? { statement: v.statement } : {}) };
}

function where(s: Side): string {
  const st = s.statement;
  if (!st) return '';
  const name = st.sid !== undefined ? `statement "${st.sid}" (#${st.index})` : `statement #${st.index}`;
  return ` (${name}${st.policyId !== undefined ? ` of policy "${st.policyId}"` : ''})`;
}

/** `User: <arn | anonymous> is not authorized to perform: execute-api:Invoke on resource: <arn>[ with an explicit deny]` */
export function iamDenialMessage(who: string | undefined, action: string, resourceArn: string, explicit: boolean): string {
  return `User: ${who ?? 'anonymous'} is not authorized to perform: ${action} on resource: ${resourceArn}` +
    (explicit ? ' with an explicit deny' : '');
}

export const LAMBDA_EXPLICIT_DENY_MESSAGE = 'User is not authorized to access this resource with an explicit deny';
export const LAMBDA_IMPLICIT_DENY_MESSAGE = 'User is not authorized to access this resource';

function denied(
  input: CombineInput, by: 'identity' | 'resource', explicit: boolean, s: Side, detail: string,
): CombinedDecision {
  const action = input.action ?? 'execute-api:Invoke';
  const decision = explicit ? 'ExplicitDeny' : 'ImplicitDeny';
  // A Lambda authorizer's own policy answers with its short texts; everything policy-related says "User: ...".
  if (by === 'identity' && input.authType === 'lambda') {
    return {
      allowed: false, decision, deniedBy: by,
      denial: {
        type: 'ACCESS_DENIED',
        message: explicit ? LAMBDA_EXPLICIT_DENY_MESSAGE : LAMBDA_IMPLICIT_DENY_MESSAGE,
        messageKey: 'message',
        detail: `authorizer policy: ${detail}${where(s)}`,
      },
    };
  }
  const who = input.authType === 'iam' ? input.principalArn : undefined;
  return {
    allowed: false, decision, deniedBy: by,
    denial: {
      type: 'ACCESS_DENIED',
      message: iamDenialMessage(who, action, input.resourceArn, explicit),
      messageKey: 'Message',
      detail: `${by === 'identity' ? 'identity policy' : 'resource policy'}: ${detail}${where(s)}`,
    },
  };
}

/**
 * The final decision. Explicit denies win on either side. Then Table A (same account): an Allow on either
 * side allows, except that a resource-policy Allow naming only the caller's account delegates to the identity
 * side. Table B (another account): both sides must allow, and an account-level resource Allow counts.
 */
export function combineDecisions(input: CombineInput): CombinedDecision {
  if (input.authType === 'none' && input.identity !== undefined) {
    throw new TypeError('combineDecisions: authType "none" has no identity decision');
  }
  const id = side(input.identity);
  const res = side(input.resource);
  if (input.resource === undefined) {
    if (input.privateApi) return denied(input, 'resource', false, res, 'private API without a resource policy');
    if (input.authType === 'none') return { allowed: true, decision: 'Allow', grantedBy: 'none' };
  }
  if (id.decision === 'ExplicitDeny') return denied(input, 'identity', true, id, 'explicit deny');
  if (res.decision === 'ExplicitDeny') return denied(input, 'resource', true, res, 'explicit deny');

  const idAllows = id.decision === 'Allow';
  const resAllows = res.decision === 'Allow';
  const sameAccount = input.authType === 'none' || input.sameAccount;
  if (sameAccount) {
    const resGrants = resAllows && !res.accountOnly;
    if (idAllows || resGrants) {
      return { allowed: true, decision: 'Allow', grantedBy: idAllows && resGrants ? 'both' : idAllows ? 'identity' : 'resource' };
    }
    // Neither side allows. Lambda: the authorizer's policy did not allow; otherwise the resource policy
    // is what could have allowed (IAM: both say "User: <arn> ...").
    if (input.authType === 'lambda' || (input.authType === 'iam' && input.resource === undefined)) {
      return denied(input, 'identity', false, id, 'no statement allows the request');
    }
    return denied(input, 'resource', false, res,
      resAllows ? 'only an account-level Allow matched, and no identity policy allows the request' : 'no statement allows the request');
  }
  if (idAllows && resAllows) return { allowed: true, decision: 'Allow', grantedBy: 'both' };
  if (!idAllows) return denied(input, 'identity', false, id, 'no statement allows the request (cross-account: both sides must allow)');
  return denied(input, 'resource', false, res,
    input.resource === undefined ? 'cross-account call and the API has no resource policy' : 'no statement allows the request (cross-account: both sides must allow)');
}

/**
 * Phase 1 for Lambda-authorised methods: before the authorizer runs, only an explicit Deny in the resource
 * policy (evaluated for an anonymous caller) refuses the request. Undefined means: go on to the authorizer.
 */
export function checkResourcePolicyBeforeAuthorizer(
  resource: Decision | EvaluationResult | undefined, resourceArn: string, action = 'execute-api:Invoke',
): CombinedDecision | undefined {
  const res = side(resource);
  if (resource === undefined || res.decision !== 'ExplicitDeny') return undefined;
  return denied({ authType: 'lambda', sameAccount: true, resourceArn, action }, 'resource', true, res,
    'explicit deny before the authorizer ran');
}
