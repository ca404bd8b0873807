// Authorization stages (reference sections 5.3-6): 'resource-policy' is the explicit-deny pre-check AWS runs
// before a custom authorizer; 'authorize' combines the identity decision with the API's resource policy.
import { deny } from '../../../core/denial.ts';
import { compiledResourcePolicy } from '../../../config/resource-policy-checks.ts';
import {
  checkResourcePolicyBeforeAuthorizer, combineDecisions, evaluate, isMethodArnTooLong,
  type AuthType, type CompiledPolicy, type Decision, type EvaluationResult,
} from '../../../security/iam/index.ts';
import type { KeyDirectory } from '../../../keys/key-directory.ts';
import type { KeyHasher } from '../../../keys/key-values.ts';
import { createTrustedProxies } from '../../trusted-proxies.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { RouteBuild, StageFactory, StageFn } from '../../pipeline/stage.ts';
import { callerIdentityOf } from '../../pipeline/caller-identity.ts';
import { createConditionContextBuilder, type ConditionGetter } from './condition-context.ts';
import { createMethodArnBuilder } from './method-arn.ts';

export interface AuthorizeDeps {
  /** The API key directory, when the node has one: lets policies read portcullis:ApiKeyId. */
  readonly keys?: { readonly directory: KeyDirectory; readonly hasher: KeyHasher };
}

const ACTION = 'execute-api:Invoke';
/** Set on ctx.extensions after the authorize stage: the combined decision, for logs and later stages. */
export const AUTHORIZATION_EXTENSION = 'authorization';

/** The route's auth in the terms of AWS's combination rules. JWT and mTLS behave as Cognito: a valid credential is an Allow. */
export function authTypeOf(build: RouteBuild<unknown>): AuthType {
  const auth = build.route.auth;
  if (auth === 'none') return 'none';
  if (auth === 'iam') return 'iam';
  if (auth === 'mtls') return 'cognito';
  const a = build.definition.authorizers?.[auth.authorizer];
  return a !== undefined && (a.type === 'token' || a.type === 'request') ? 'lambda' : 'cognito';
}

// Trusted proxies are compiled once per definition (settings object), not per route.
const proxiesBySettings = new WeakMap<object, ReturnType<typeof createTrustedProxies>>();

function conditionBuilder(build: RouteBuild<AuthorizeDeps>): (ctx: RequestContext) => ConditionGetter {
  const settings = build.definition.settings;
  let trustedProxies = proxiesBySettings.get(settings);
  if (trustedProxies === undefined) proxiesBySettings.set(settings, (trustedProxies = createTrustedProxies(settings.trustedProxies ?? [])));
  const keys = build.deps?.keys;
  const fromAuthorizer = build.api.apiKeySource === 'AUTHORIZER';
  return createConditionContextBuilder({
    trustedProxies,
    apiKeyId: keys === undefined ? undefined : (ctx) => {
      const raw = fromAuthorizer ? ctx.extensions.usageIdentifierKey : ctx.req.headers['x-api-key'];
      if (typeof raw !== 'string' || raw === '') return undefined;
      const hit = keys.directory.lookup(keys.hasher.hash(raw));
      // Only a key the api-key phase would accept names an id here.
      return hit !== undefined && hit.key.enabled ? hit.key.id : undefined;
    },
  });
}

const tooLong = (arn: string) => deny('URI_TOO_LONG', { detail: `method ARN is ${Buffer.byteLength(arn)} bytes (limit 1600)` });

export const resourcePolicyStage: StageFactory<AuthorizeDeps> = Object.freeze({
  name: 'resource-policy',
  phase: 'resource-policy' as const,
  create(build: RouteBuild<AuthorizeDeps>): StageFn | null {
    // Only custom authorizers get AWS's pre-check: every other auth type is decided once, in 'authorize'.
    const policy = compiledResourcePolicy(build.api, build.definition.settings);
    if (policy === undefined || authTypeOf(build) !== 'lambda') return null;
    const policies = [policy];
    const methodArn = createMethodArnBuilder(build);
    const context = conditionBuilder(build);
    return function resourcePolicyPreCheck(ctx) {
      const arn = methodArn(ctx);
      if (isMethodArnTooLong(arn)) return tooLong(arn);
      const r = evaluate(policies, { action: ACTION, resource: arn, context: context(ctx) });
      const pre = checkResourcePolicyBeforeAuthorizer(r, arn);
      return pre !== undefined && !pre.allowed ? pre.denial : undefined;
    };
  },
});

export const authorizeStage: StageFactory<AuthorizeDeps> = Object.freeze({
  name: 'authorize',
  phase: 'authorize' as const,
  create(build: RouteBuild<AuthorizeDeps>): StageFn | null {
    const policy = compiledResourcePolicy(build.api, build.definition.settings);
    const authType = authTypeOf(build);
    // auth: mtls with the certificate mapped to a principal is authorized as that IAM caller (docs/https.md).
    const mtlsPrincipals = build.route.auth === 'mtls' && (build.definition.domains ?? []).some((d) => (d.mtls?.principals.length ?? 0) > 0);
    if (policy === undefined && authType !== 'iam' && !mtlsPrincipals) return null;
    const resourcePolicies: readonly CompiledPolicy[] | undefined = policy && [policy];
    const methodArn = createMethodArnBuilder(build);
    const context = conditionBuilder(build);
    const apiAccount = build.definition.settings.accountId;

    return function authorize(ctx) {
      const id = callerIdentityOf(ctx);
      const type: AuthType = mtlsPrincipals && id?.kind === 'mtls' && id.caller !== undefined ? 'iam' : authType;
      if (type !== 'iam' && resourcePolicies === undefined) return undefined;
      const arn = methodArn(ctx);
      if (isMethodArnTooLong(arn)) return tooLong(arn);
      const getter = context(ctx);
      const caller = type === 'iam' ? id?.caller : undefined;
      if (type === 'iam' && caller === undefined) throw new Error('authorize: an IAM route reached authorization without an authenticated caller');

      let identity: Decision | EvaluationResult | undefined;
      if (type === 'iam') {
        identity = id!.decision ?? evaluate(id!.policies ?? [], { principal: caller, action: ACTION, resource: arn, context: getter });
      } else if (type === 'lambda') {
        identity = id?.decision ?? (ctx.extensions.authorizerDecision as Decision | undefined) ?? 'Allow';
      } else if (type === 'cognito') {
        identity = id?.decision ?? 'Allow';
      }
      const resource = resourcePolicies && evaluate(resourcePolicies, { principal: caller, action: ACTION, resource: arn, context: getter });
      const result = combineDecisions({
        authType: type,
        identity,
        resource,
        sameAccount: caller === undefined || caller.accountId === apiAccount,
        resourceArn: arn,
        principalArn: caller?.arn,
      });
      ctx.extensions[AUTHORIZATION_EXTENSION] = result;
      return result.allowed ? undefined : result.denial;
    };
  },
});
