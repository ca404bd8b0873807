// Compiles a validated definition into an immutable Snapshot: API selection by host and base path,
// one router per API stage, and per route the chain of stage functions and the integration, all built
// once here so the request path only looks things up (STYLE.md 3).
import type { Definition, ApiDefinition, StageDefinition, RouteDefinition, Settings } from '../config/schema.ts';
import { deriveApiId } from '../config/api-id.ts';
import { DefinitionError, type DefinitionProblem } from '../config/load.ts';
import { compileAccessLogFormat } from '../observe/access-log.ts';
import { createRouter } from './router.ts';
import { createGatewayResponder, type GatewayResponder } from './gateway-responses.ts';
import { createHttpProxyIntegration } from './integrations/http-proxy.ts';
import { createMockIntegration } from './integrations/mock.ts';
import type { RequestContext } from './pipeline/context.ts';
import type { StageFactory, StageFn } from './pipeline/stage.ts';
import type { CompiledSnapshot } from './runtime-port.ts';
import { compileDomainIndex, selectOnDomain, type DomainIndex } from './domain-index.ts';
import type { ApiSelection, CompiledApi, CompiledRoute, CompiledStage } from './compiled.ts';

export type { ApiSelection, CompiledApi, CompiledRoute, CompiledStage } from './compiled.ts';

export interface Snapshot extends CompiledSnapshot {
  readonly settings: Settings;
  readonly definition: Definition;
  /** Access-log formatter for requests that matched no API stage. */
  readonly accessLog: ((ctx: RequestContext) => string) | null;
  select(host: string, rawPath: string): ApiSelection | undefined;
  /** Custom domain names by host; a host served by a domain is selected only through its mappings. */
  readonly domains: DomainIndex;
}

export interface CompileDeps<Deps> {
  readonly stageFactories: readonly StageFactory<Deps>[];
  readonly stageDeps: Deps;
  readonly pools: Parameters<typeof createHttpProxyIntegration>[1]['pools'];
}

const NO_STAGES: readonly StageFn[] = Object.freeze([]);

interface HostIndex {
  readonly exact: Map<string, CompiledApi[]>;
  readonly wildcard: Array<{ suffix: string; apis: CompiledApi[] }>;
  readonly any: CompiledApi[];
}

export function compileSnapshot<Deps>(definition: Definition, revision: number, deps: CompileDeps<Deps>): Snapshot {
  const problems: DefinitionProblem[] = [];
  const settings = definition.settings;
  const index: HostIndex = { exact: new Map(), wildcard: [], any: [] };
  let routeCount = 0;
  const apisByName = new Map<string, CompiledApi>();

  definition.apis.forEach((apiDef, ai) => {
    const api = compileApi(apiDef, ai, definition, deps, problems);
    apisByName.set(apiDef.name, api);
    routeCount += apiDef.routes.length;
    if (!apiDef.hosts?.length) index.any.push(api);
    for (const host of apiDef.hosts ?? []) {
      if (host.startsWith('*.')) {
        const suffix = host.slice(1);
        let entry = index.wildcard.find((w) => w.suffix === suffix);
        if (!entry) index.wildcard.push((entry = { suffix, apis: [] }));
        entry.apis.push(api);
      } else {
        const list = index.exact.get(host) ?? [];
        list.push(api);
        index.exact.set(host, list);
      }
    }
  });

  const byPrefixLength = (a: CompiledApi, b: CompiledApi) => b.prefix.length - a.prefix.length;
  index.any.sort(byPrefixLength);
  for (const list of index.exact.values()) list.sort(byPrefixLength);
  for (const w of index.wildcard) w.apis.sort(byPrefixLength);
  // Longer wildcard suffixes are more specific.
  index.wildcard.sort((a, b) => b.suffix.length - a.suffix.length);

  const accessLog = compileLogFormat(settings.accessLog, settings.accountId, 'settings.accessLog.format', problems);
  if (problems.length) throw new DefinitionError(problems);
  const domains = compileDomainIndex(definition.domains ?? [], apisByName);

  return Object.freeze({
    revision,
    routeCount,
    apiCount: definition.apis.length,
    settings,
    definition,
    accessLog,
    domains,
    select: (host: string, rawPath: string) => {
      if (domains.size) {
        const domain = domains.find(host);
        if (domain) return selectOnDomain(domain, rawPath);
      }
      return select(index, host, rawPath);
    },
  });
}

function select(index: HostIndex, host: string, rawPath: string): ApiSelection | undefined {
  if (index.exact.size) {
    const list = index.exact.get(host);
    const hit = list && matchPrefix(list, rawPath);
    if (hit) return hit;
  }
  for (const w of index.wildcard) {
    if (host.endsWith(w.suffix) && host.length > w.suffix.length) {
      const hit = matchPrefix(w.apis, rawPath);
      if (hit) return hit;
    }
  }
  return matchPrefix(index.any, rawPath);
}

function matchPrefix(apis: readonly CompiledApi[], rawPath: string): ApiSelection | undefined {
  for (const api of apis) {
    const p = api.prefix;
    if (p && !(rawPath.startsWith(p) && (rawPath.length === p.length || rawPath.charCodeAt(p.length) === 47))) continue;
    // After the base path comes /{stage}{stagePath}.
    const rest = p ? rawPath.slice(p.length) : rawPath;
    const slash = rest.indexOf('/', 1);
    const stageName = slash === -1 ? rest.slice(1) : rest.slice(1, slash);
    const stagePath = slash === -1 ? '/' : rest.slice(slash);
    return { api, stage: api.stages.get(stageName), stageName, stagePath };
  }
  return undefined;
}

function compileApi<Deps>(
  apiDef: ApiDefinition,
  ai: number,
  definition: Definition,
  deps: CompileDeps<Deps>,
  problems: DefinitionProblem[],
): CompiledApi {
  const id = apiDef.id ?? deriveApiId(apiDef.name);
  let responder: GatewayResponder;
  try {
    responder = createGatewayResponder(apiDef.gatewayResponses ?? {});
  } catch (err) {
    problems.push({ path: `apis[${ai}].gatewayResponses`, message: (err as Error).message });
    responder = createGatewayResponder();
  }
  const stages = new Map<string, CompiledStage>();
  for (const [stageName, stageDef] of Object.entries(apiDef.stages)) {
    stages.set(stageName, compileStage(apiDef, id, ai, stageName, stageDef, definition, deps, problems, responder));
  }
  return Object.freeze({ id, name: apiDef.name, prefix: apiDef.basePath === '/' ? '' : apiDef.basePath, responder, stages });
}

function compileStage<Deps>(
  apiDef: ApiDefinition,
  apiId: string,
  ai: number,
  stageName: string,
  stageDef: StageDefinition,
  definition: Definition,
  deps: CompileDeps<Deps>,
  problems: DefinitionProblem[],
  responder: GatewayResponder,
): CompiledStage {
  const router = createRouter<CompiledRoute>();
  const variables = Object.freeze({ ...stageDef.variables });
  apiDef.routes.forEach((route: RouteDefinition, ri) => {
    const at = `apis[${ai}].routes[${ri}]`;
    try {
      const chain: StageFn[] = [];
      const phases = new Set<string>();
      for (const factory of deps.stageFactories) {
        const fn = factory.create({ api: apiDef, apiId, stageName, stage: stageDef, route, definition, deps: deps.stageDeps });
        if (fn) {
          chain.push(fn);
          phases.add(factory.phase);
        }
      }
      const unenforced = unenforcedSecurity(apiDef, route, phases);
      if (unenforced) throw new Error(unenforced);
      const integration =
        route.integration.type === 'http_proxy'
          ? createHttpProxyIntegration(route.integration, {
              stageVariables: variables,
              pools: deps.pools,
              maxRequestBodyBytes: definition.settings.maxRequestBodyBytes,
              // A {name+} parameter keeps its slashes when substituted into the URL.
              greedyParameters: [...route.path.matchAll(/\{([A-Za-z0-9_]+)\+\}/g)].map((m) => m[1]),
            })
          : createMockIntegration(route.integration);
      router.add(route.method, route.path, {
        apiId,
        apiName: apiDef.name,
        stageName,
        resourcePath: route.path,
        routeKey: `${route.method} ${route.path}`,
        method: route.method,
        // Exact size (a list grown by push keeps about 150 bytes of spare room); shared when empty.
        chain: chain.length === 0 ? NO_STAGES : chain.slice(),
        integration,
        responder,
      });
    } catch (err) {
      problems.push({ path: at, message: `stage ${stageName}: ${(err as Error).message}` });
    }
  });
  const logSettings = stageDef.accessLog ?? definition.settings.accessLog;
  const accessLog = compileLogFormat(logSettings, definition.settings.accountId, `apis[${ai}].stages.${stageName}.accessLog.format`, problems);
  return Object.freeze({ name: stageName, variables, router, accessLog });
}

/**
 * A definition may name security this build cannot enforce (an auth type, API keys, a resource policy
 * whose stage is not registered). Serving such a route would leave it open, so the revision is refused.
 */
function unenforcedSecurity(api: ApiDefinition, route: RouteDefinition, phases: ReadonlySet<string>): string | undefined {
  if (route.auth !== 'none' && !phases.has('authenticate')) {
    const what = typeof route.auth === 'string' ? `auth: ${route.auth}` : `auth: { authorizer: ${route.auth.authorizer} }`;
    return `${what} is not supported by this build of Portcullis, so the route cannot be served`;
  }
  if (route.apiKeyRequired && !phases.has('api-key')) {
    return 'apiKeyRequired: true is not supported by this build of Portcullis, so the route cannot be served';
  }
  if (api.resourcePolicy !== undefined && !phases.has('resource-policy') && !phases.has('authorize')) {
    return 'resourcePolicy is not supported by this build of Portcullis, so the API cannot be served';
  }
  return undefined;
}

function compileLogFormat(
  settings: { format: string; enabled: boolean },
  accountId: string,
  path: string,
  problems: DefinitionProblem[],
): ((ctx: RequestContext) => string) | null {
  if (!settings.enabled) return null;
  try {
    return compileAccessLogFormat(settings.format, { accountId });
  } catch (err) {
    problems.push({ path, message: (err as Error).message });
    return null;
  }
}
