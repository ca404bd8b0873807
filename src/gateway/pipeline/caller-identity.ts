// The contract between authentication stages and the authorization stage: what an authenticator records
// about the caller (ctx.extensions.identity) and which extra condition keys it offers policies (ctx.extensions.conditionKeys).
import type { CompiledPolicy, Decision, EvaluationResult } from '../../security/iam/index.ts';
import type { RequestContext } from './context.ts';

/** ctx.extensions key of the CallerIdentity an authenticate stage sets. */
export const IDENTITY_EXTENSION = 'identity';
/** ctx.extensions key of the Map<lower-cased key, value> of extra condition keys (see stages/auth-common.ts). */
export const CONDITION_KEYS_EXTENSION = 'conditionKeys';

/** An IAM principal as policies see it (aws:Principal* keys). */
export interface IamCaller {
  /** arn:aws:iam::123456789012:user/path/alice, ...:role/deploy, arn:aws:sts::...:assumed-role/deploy/session. */
  readonly arn: string;
  readonly accountId: string;
  /** aws:PrincipalType: User, AssumedRole, FederatedUser, Account. */
  readonly type: 'User' | 'AssumedRole' | 'FederatedUser' | 'Account';
  /** aws:username (IAM users only). */
  readonly username?: string;
  /** aws:userid: the unique id (AIDA... for users, AROA...:session for roles). */
  readonly userid: string;
  /** aws:PrincipalTag/<key>, keys LOWER-CASED (tag keys are case-insensitive in conditions). */
  readonly tags?: ReadonlyMap<string, string>;
  /** The access key the request was signed with ($context.identity.accessKey). */
  readonly accessKeyId?: string;
}

/**
 * Set by an authenticate stage on success. The authorize stage combines it with the resource policy:
 * - kind 'iam': `caller` and `policies` (the principal's identity policies, evaluated by the authorize stage
 *   with the request's full condition context); same account as the API → Table A, else Table B.
 * - kind 'lambda': `decision` = the authorizer policy's decision for this request (a simple-response
 *   authorizer that said isAuthorized: true counts as 'Allow').
 * - kind 'cognito' | 'jwt' | 'mtls': the identity side is 'Allow' once the credential is valid (Table A).
 * A stage that does not set it leaves the authorize stage to infer the kind from the route's auth.
 */
export interface CallerIdentity {
  readonly kind: 'iam' | 'lambda' | 'cognito' | 'jwt' | 'mtls';
  readonly caller?: IamCaller;
  readonly policies?: readonly CompiledPolicy[];
  readonly decision?: Decision | EvaluationResult;
}

export function callerIdentityOf(ctx: RequestContext): CallerIdentity | undefined {
  return ctx.extensions[IDENTITY_EXTENSION] as CallerIdentity | undefined;
}

export function setCallerIdentity(ctx: RequestContext, identity: CallerIdentity): void {
  ctx.extensions[IDENTITY_EXTENSION] = identity;
}
