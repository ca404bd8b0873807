// Admin API routes for IAM: identity policies (validated by the policy engine before they are stored), users
// and roles, access keys (the secret is answered once), STS-like session credentials, master-key re-sealing,
// and the policy validator and simulator. Wired into admin-server.ts's route table; documented in openapi-iam.ts.
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../core/clock.ts';
import type { ControlPlane } from '../../control/control-plane.ts';
import { deriveApiId } from '../../config/api-id.ts';
import { PolicyValidationError, type IamService } from '../../iam/iam-service.ts';
import { parsePolicy, simulatePolicies, type ContextValue, type Decision, type PolicyKind, type SimulatedPrincipal } from '../../security/iam/index.ts';
import type { AdminRole } from '../../store/ports.ts';
import type { PrincipalType } from '../../store/iam-port.ts';
import { AdminHttpError } from '../admin-errors.ts';
import { hasBody } from '../request-body.ts';

interface State {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}
interface Deps {
  readonly iam?: IamService;
  readonly clock: Clock;
  readonly controlPlane: Pick<ControlPlane, 'currentDeployment' | 'getRevision' | 'validate'>;
  readJson(state: never, fields: readonly string[]): Promise<Record<string, unknown>>;
}
type Reply = { readonly status: number; readonly json: unknown };
interface IamRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly role: AdminRole;
  readonly eventName: string;
  readonly query?: readonly string[];
  readonly handle: (state: State, deps: Deps) => Promise<Reply>;
}

const service = (deps: Deps): IamService => {
  if (!deps.iam) throw new AdminHttpError('NOT_FOUND', 'IAM is not enabled on this server');
  return deps.iam;
};
const json = (deps: Deps, state: State, fields: readonly string[]) => deps.readJson(state as never, fields);

function str(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AdminHttpError('BAD_REQUEST', `${name} must be a string`);
  return v;
}
function required(v: unknown, name: string): string {
  const s = str(v, name);
  if (s === undefined || s === '') throw new AdminHttpError('BAD_REQUEST', `${name} is required`);
  return s;
}
function strings(v: unknown, name: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new AdminHttpError('BAD_REQUEST', `${name} must be an array of strings`);
  return v as string[];
}
function tags(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw new AdminHttpError('BAD_REQUEST', 'tags must be an object of string values');
  }
  return v as Record<string, string>;
}
/** A policy document: a JSON object, or its JSON text (kept as text so duplicate keys are reported). */
function documentOf(v: unknown, name: string): unknown {
  if (typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v))) return v;
  throw new AdminHttpError('BAD_REQUEST', `${name} must be a policy document (a JSON object or its JSON text)`);
}
function context(v: unknown): Record<string, ContextValue> | undefined {
  if (v === undefined) return undefined;
  const ok = typeof v === 'object' && v !== null && !Array.isArray(v) &&
    Object.values(v).every((x) => typeof x === 'string' || (Array.isArray(x) && x.every((y) => typeof y === 'string')));
  if (!ok) throw new AdminHttpError('BAD_REQUEST', 'context must be an object of condition keys to a string or an array of strings');
  return v as Record<string, ContextValue>;
}

const POLICY_FIELDS = ['name', 'description', 'document'] as const;
const PRINCIPAL_FIELDS = ['type', 'name', 'accountId', 'path', 'tags', 'policies'] as const;
const SIMULATE_FIELDS = [
  'method', 'path', 'stage', 'api', 'region', 'accountId', 'apiId', 'principal', 'tags', 'identityPolicies', 'policyNames',
  'resourcePolicy', 'context', 'authType', 'identityDecision',
] as const;

/** The deployed definition's API by name: its ARN parts and resource policy. */
async function deployedApi(deps: Deps, name: string) {
  const current = await deps.controlPlane.currentDeployment();
  const revision = current && (await deps.controlPlane.getRevision(current.revision));
  if (!revision) throw new AdminHttpError('NOT_FOUND', `no revision is deployed, so there is no API ${JSON.stringify(name)}; pass region, accountId, apiId and resourcePolicy instead`);
  const v = deps.controlPlane.validate(revision.source, revision.format);
  if (!v.ok) throw new AdminHttpError('BAD_REQUEST', `the deployed revision ${revision.number} no longer validates`);
  const api = v.definition.apis.find((a) => a.name === name);
  if (!api) throw new AdminHttpError('NOT_FOUND', `the deployed definition has no API ${JSON.stringify(name)} (it has ${v.definition.apis.map((a) => a.name).join(', ') || 'none'})`);
  return { region: v.definition.settings.region, accountId: v.definition.settings.accountId, apiId: api.id ?? deriveApiId(api.name), resourcePolicy: api.resourcePolicy };
}

async function simulate(state: State, deps: Deps): Promise<Reply> {
  const b = await json(deps, state, SIMULATE_FIELDS);
  const method = required(b.method, 'method').toUpperCase();
  const path = required(b.path, 'path');
  if (!path.startsWith('/')) throw new AdminHttpError('BAD_REQUEST', 'path must start with / (the real request path, such as /pets/42)');
  const apiName = str(b.api, 'api');
  const fromApi = apiName !== undefined ? await deployedApi(deps, apiName) : undefined;
  const api = {
    region: str(b.region, 'region') ?? fromApi?.region ?? 'us-east-1',
    accountId: str(b.accountId, 'accountId') ?? fromApi?.accountId ?? '123456789012',
    apiId: str(b.apiId, 'apiId') ?? fromApi?.apiId ?? (apiName !== undefined ? deriveApiId(apiName) : 'api'),
  };
  const identityPolicies: { name: string; document: unknown }[] = [];
  if (b.identityPolicies !== undefined) {
    if (!Array.isArray(b.identityPolicies)) throw new AdminHttpError('BAD_REQUEST', 'identityPolicies must be an array of policy documents');
    b.identityPolicies.forEach((d, i) => identityPolicies.push({ name: `identityPolicies[${i}]`, document: documentOf(d, `identityPolicies[${i}]`) }));
  }
  for (const n of strings(b.policyNames, 'policyNames') ?? []) {
    const p = await service(deps).getPolicy(n);
    identityPolicies.push({ name: p.name, document: p.document });
  }
  let principal: SimulatedPrincipal | undefined;
  const who = str(b.principal, 'principal');
  if (who !== undefined) {
    // A stored principal brings its tags and attached policies; any other ARN is simulated as given.
    const stored = deps.iam && !who.startsWith('arn:aws:sts:') ? await deps.iam.getPrincipal(who).catch(() => undefined) : undefined;
    if (stored) {
      principal = { arn: stored.arn, tags: { ...stored.tags, ...tags(b.tags) }, userid: stored.id };
      for (const n of stored.policies) identityPolicies.push({ name: n, document: (await service(deps).getPolicy(n)).document });
    } else if (who.startsWith('arn:')) principal = { arn: who, tags: tags(b.tags) };
    else throw new AdminHttpError('NOT_FOUND', `principal ${JSON.stringify(who)} does not exist; give a stored principal's id or ARN, or any IAM/STS ARN`);
  }
  const authType = str(b.authType, 'authType');
  if (authType !== undefined && !['iam', 'lambda', 'cognito', 'none'].includes(authType)) throw new AdminHttpError('BAD_REQUEST', 'authType must be iam, lambda, cognito or none');
  if (authType !== undefined && authType !== 'iam' && principal) throw new AdminHttpError('BAD_REQUEST', `a principal is only meaningful with authType iam, not ${authType}`);
  const identityDecision = str(b.identityDecision, 'identityDecision');
  if (identityDecision !== undefined && !['Allow', 'ExplicitDeny', 'ImplicitDeny'].includes(identityDecision)) {
    throw new AdminHttpError('BAD_REQUEST', 'identityDecision must be Allow, ExplicitDeny or ImplicitDeny');
  }
  const result = simulatePolicies({
    identityPolicies,
    resourcePolicy: b.resourcePolicy !== undefined ? documentOf(b.resourcePolicy, 'resourcePolicy') : fromApi?.resourcePolicy,
    principal, api, stage: str(b.stage, 'stage') ?? 'prod', method, path,
    context: context(b.context),
    authType: authType as 'iam' | 'lambda' | 'cognito' | 'none' | undefined,
    identityDecision: identityDecision as Decision | undefined,
    nowMs: deps.clock.now(),
  });
  if (!result.ok) {
    return { status: 400, json: { error: { code: 'BAD_REQUEST', message: `${result.problems.length === 1 ? 'a policy has 1 problem' : `the policies have ${result.problems.length} problems`}` }, problems: result.problems } };
  }
  return { status: 200, json: result };
}

export const IAM_ROUTES: readonly IamRoute[] = Object.freeze([
  {
    method: 'GET', path: '/v1/iam/policies', role: 'read-only', eventName: 'ListPolicies',
    handle: async (_s, deps) => ({ status: 200, json: { policies: await service(deps).listPolicies() } }),
  },
  {
    method: 'POST', path: '/v1/iam/policies', role: 'operator', eventName: 'PutPolicy',
    handle: async (state, deps) => {
      const b = await json(deps, state, POLICY_FIELDS);
      try {
        const { policy, created } = await service(deps).putPolicy({
          name: required(b.name, 'name'), description: str(b.description, 'description'), document: documentOf(b.document, 'document'),
        });
        return { status: created ? 201 : 200, json: { policy, created } };
      } catch (err) {
        // Every problem with its JSON path (as /v1/validate lists a definition's), beside the error.
        if (err instanceof PolicyValidationError) return { status: 400, json: { error: { code: 'BAD_REQUEST', message: err.message }, problems: err.problems } };
        throw err;
      }
    },
  },
  {
    method: 'GET', path: '/v1/iam/policies/{name}', role: 'read-only', eventName: 'GetPolicy',
    handle: async ({ params }, deps) => ({ status: 200, json: { policy: await service(deps).getPolicy(params.name ?? '') } }),
  },
  {
    method: 'DELETE', path: '/v1/iam/policies/{name}', role: 'operator', eventName: 'DeletePolicy',
    handle: async ({ params }, deps) => {
      await service(deps).deletePolicy(params.name ?? '');
      return { status: 200, json: { deleted: params.name } };
    },
  },
  {
    method: 'POST', path: '/v1/iam/validate-policy', role: 'read-only', eventName: 'ValidatePolicy',
    handle: async (state, deps) => {
      const b = await json(deps, state, ['document', 'kind', 'region', 'accountId', 'apiId']);
      const kind = (str(b.kind, 'kind') ?? 'identity') as PolicyKind;
      if (kind !== 'identity' && kind !== 'resource') throw new AdminHttpError('BAD_REQUEST', 'kind must be identity or resource');
      const r = parsePolicy(documentOf(b.document, 'document'), {
        kind, api: { region: str(b.region, 'region') ?? 'us-east-1', accountId: str(b.accountId, 'accountId') ?? '123456789012', apiId: str(b.apiId, 'apiId') ?? 'api' },
      });
      return { status: 200, json: r.ok ? { valid: true, statementCount: r.policy.statementCount } : { valid: false, problems: r.problems } };
    },
  },
  {
    method: 'POST', path: '/v1/iam/simulate', role: 'read-only', eventName: 'SimulateCustomPolicy',
    handle: simulate,
  },
  {
    method: 'GET', path: '/v1/iam/principals', role: 'read-only', eventName: 'ListPrincipals',
    handle: async (_s, deps) => ({ status: 200, json: { principals: await service(deps).listPrincipals() } }),
  },
  {
    method: 'POST', path: '/v1/iam/principals', role: 'operator', eventName: 'CreatePrincipal',
    handle: async (state, deps) => {
      const b = await json(deps, state, PRINCIPAL_FIELDS);
      const type = required(b.type, 'type');
      if (type !== 'user' && type !== 'role') throw new AdminHttpError('BAD_REQUEST', 'type must be user or role');
      const principal = await service(deps).createPrincipal({
        type: type as PrincipalType, name: required(b.name, 'name'), accountId: str(b.accountId, 'accountId'), path: str(b.path, 'path'),
        tags: tags(b.tags), policies: strings(b.policies, 'policies'),
      });
      return { status: 201, json: { principal } };
    },
  },
  {
    method: 'GET', path: '/v1/iam/principals/{principal}', role: 'read-only', eventName: 'GetPrincipal',
    handle: async ({ params }, deps) => ({ status: 200, json: { principal: await service(deps).getPrincipal(params.principal ?? '') } }),
  },
  {
    method: 'POST', path: '/v1/iam/principals/{principal}', role: 'operator', eventName: 'UpdatePrincipal',
    handle: async (state, deps) => {
      const b = await json(deps, state, ['path', 'tags', 'policies']);
      const principal = await service(deps).updatePrincipal(state.params.principal ?? '', {
        ...(b.path !== undefined ? { path: str(b.path, 'path') } : {}),
        ...(b.tags !== undefined ? { tags: tags(b.tags) } : {}),
        ...(b.policies !== undefined ? { policies: strings(b.policies, 'policies') } : {}),
      });
      return { status: 200, json: { principal } };
    },
  },
  {
    method: 'DELETE', path: '/v1/iam/principals/{principal}', role: 'operator', eventName: 'DeletePrincipal',
    handle: async ({ params }, deps) => {
      await service(deps).deletePrincipal(params.principal ?? '');
      return { status: 200, json: { deleted: params.principal } };
    },
  },
  {
    method: 'POST', path: '/v1/iam/principals/{principal}/access-keys', role: 'operator', eventName: 'CreateAccessKey',
    handle: async ({ params }, deps) => {
      // The only time the secret is ever sent: the store keeps it sealed, the audit trail redacts it.
      const accessKey = await service(deps).createAccessKey(params.principal ?? '');
      return { status: 201, json: { accessKey } };
    },
  },
  {
    method: 'POST', path: '/v1/iam/principals/{principal}/session-credentials', role: 'operator', eventName: 'GetSessionToken',
    handle: async (state, deps) => {
      // No body: the default duration.
      const b = hasBody(state.req) ? await json(deps, state, ['durationSeconds']) : {};
      if (b.durationSeconds !== undefined && typeof b.durationSeconds !== 'number') throw new AdminHttpError('BAD_REQUEST', 'durationSeconds must be a number');
      const credentials = await service(deps).createSessionCredentials(state.params.principal ?? '', b.durationSeconds as number | undefined);
      return { status: 201, json: { credentials } };
    },
  },
  {
    method: 'GET', path: '/v1/iam/access-keys', role: 'read-only', eventName: 'ListAccessKeys', query: ['principal'],
    handle: async ({ query }, deps) => ({ status: 200, json: { accessKeys: await service(deps).listAccessKeys(query.get('principal') ?? undefined) } }),
  },
  {
    method: 'POST', path: '/v1/iam/access-keys/{id}', role: 'operator', eventName: 'UpdateAccessKey',
    handle: async (state, deps) => {
      const b = await json(deps, state, ['status']);
      const status = required(b.status, 'status');
      if (status !== 'active' && status !== 'inactive') throw new AdminHttpError('BAD_REQUEST', 'status must be active or inactive');
      return { status: 200, json: { accessKey: await service(deps).setAccessKeyStatus(state.params.id ?? '', status) } };
    },
  },
  {
    method: 'DELETE', path: '/v1/iam/access-keys/{id}', role: 'operator', eventName: 'DeleteAccessKey',
    handle: async ({ params }, deps) => {
      await service(deps).deleteAccessKey(params.id ?? '');
      return { status: 200, json: { deleted: params.id } };
    },
  },
  {
    method: 'POST', path: '/v1/iam/reseal-secrets', role: 'admin', eventName: 'ResealSecrets',
    handle: async (_s, deps) => ({ status: 200, json: { resealed: await service(deps).resealSecrets() } }),
  },
]);
