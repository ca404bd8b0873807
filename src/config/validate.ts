// Semantic checks on a definition that already matches the schema: what zod cannot say on its own (unique
// names, route conflicts, URLs that must work in every stage, AWS key formats). Each finding is a problem with a path.
import { deriveApiId } from './api-id.ts';
import { checkBasePath, parsePathTemplate, templateShape } from './path-template.ts';
import { didYouMean, listOf, toDefinitionProblem } from './problems.ts';
import type { DefinitionProblem, PathProblem, PathSegment } from './problems.ts';
import { checkAuthorizers } from './authorizer-checks.ts';
import { checkUsagePlans } from './usage-plan-checks.ts';
import { checkTls } from './tls-checks.ts';
import { checkResourcePolicies } from './resource-policy-checks.ts';
import { HTTP_METHODS } from './schema.ts';
import type { ApiDefinition, Definition, HttpProxyIntegration, StageDefinition } from './schema.ts';

/** Total routes across all APIs: the router and the compiled snapshot are sized for this. */
export const MAX_TOTAL_ROUTES = 100_000;

const METHODS_AND_ANY: readonly string[] = [...HTTP_METHODS, 'ANY'];
// Route-throttle hints compare a key against every route path; keep that bounded on huge definitions.
const MAX_SUGGESTION_CANDIDATES = 2_000;

const q = (s: string): string => JSON.stringify(s);
const count = (n: number): string => n.toLocaleString('en-US');

/** Runs every semantic check; problems keep structured paths so the loader can find their line. */
export function checkDefinition(definition: Definition): PathProblem[] {
  const problems: PathProblem[] = [];
  const add = (path: PathSegment[], message: string): void => {
    problems.push({ path, message });
  };

  const total = definition.apis.reduce((n, api) => n + api.routes.length, 0);
  if (total > MAX_TOTAL_ROUTES) {
    add(['apis'], `the definition has ${count(total)} routes in total; the limit is ${count(MAX_TOTAL_ROUTES)}`);
  }

  checkApiIdentity(definition.apis, add);
  checkBasePaths(definition.apis, add);
  checkAuthorizers(definition, add);
  checkUsagePlans(definition, add);
  checkTls(definition, add);
  checkResourcePolicies(definition, add);
  definition.apis.forEach((api, i) => {
    checkRoutes(api, i, add);
    checkGatewayResponses(api, i, add);
    checkRouteThrottles(api, i, add);
  });
  return problems;
}

/** The same checks with paths written out, for callers that only show problems. */
export function validateDefinition(definition: Definition): DefinitionProblem[] {
  return checkDefinition(definition).map(toDefinitionProblem);
}

type Add = (path: PathSegment[], message: string) => void;

function checkApiIdentity(apis: readonly ApiDefinition[], add: Add): void {
  const byName = new Map<string, number>();
  const byId = new Map<string, number>();
  apis.forEach((api, i) => {
    const sameName = byName.get(api.name);
    if (sameName !== undefined) add(['apis', i, 'name'], `API name ${q(api.name)} is already used by apis[${sameName}]`);
    else byName.set(api.name, i);

    const id = api.id ?? deriveApiId(api.name);
    const sameId = byId.get(id);
    if (sameId === undefined) {
      byId.set(id, i);
      return;
    }
    const other = apis[sameId];
    // Two derived ids collide only when the names do, and that is reported above already.
    if (api.id === undefined && other.id === undefined && other.name === api.name) return;
    const mine = api.id === undefined ? ` (derived from the name ${q(api.name)})` : '';
    const theirs = other.id === undefined ? ` (derived from its name ${q(other.name)})` : '';
    add(['apis', i, api.id === undefined ? 'name' : 'id'], `API id ${q(id)}${mine} is already used by apis[${sameId}]${theirs}`);
  });
}

function checkBasePaths(apis: readonly ApiDefinition[], add: Add): void {
  // basePath + host → first API serving it. Hostless APIs use the empty host: they answer any host that no
  // API lists, so a hostless and a host-bound API on the same base path do not conflict (the listed host
  // wins); likewise an exact host is expected to beat a wildcard ("*.example.com"), so only identical
  // entries are ambiguous.
  const served = new Map<string, number>();
  apis.forEach((api, i) => {
    const problem = checkBasePath(api.basePath);
    if (problem) add(['apis', i, 'basePath'], problem);

    const hosts = api.hosts ?? [];
    const seen = new Set<string>();
    hosts.forEach((host, h) => {
      if (seen.has(host)) add(['apis', i, 'hosts', h], `host ${q(host)} is listed twice`);
      seen.add(host);
    });

    let reported = false;
    for (const host of hosts.length === 0 ? [''] : seen) {
      const key = `${host}\n${api.basePath}`;
      const other = served.get(key);
      if (other === undefined) {
        served.set(key, i);
      } else if (!reported) {
        reported = true;
        const where = host === '' ? 'for any host (neither lists hosts)' : `on host ${q(host)}`;
        add(
          ['apis', i, 'basePath'],
          `apis[${i}] and apis[${other}] both serve base path ${q(api.basePath)} ${where}: a request could not tell them apart`,
        );
      }
    }
  });
}

function checkRoutes(api: ApiDefinition, apiIndex: number, add: Add): void {
  // shape ("/pets/{}") → method → index of the first route with it.
  const shapes = new Map<string, Map<string, number>>();
  api.routes.forEach((route, r) => {
    const routePath: PathSegment[] = ['apis', apiIndex, 'routes', r];
    const parsed = parsePathTemplate(route.path);
    if (!parsed.ok) {
      add([...routePath, 'path'], parsed.message);
      return;
    }
    const shape = templateShape(parsed.segments);
    let methods = shapes.get(shape);
    if (!methods) shapes.set(shape, (methods = new Map()));
    // ANY next to an explicit method on the same path is allowed, as in AWS: the explicit method wins for
    // its requests (the router tries the exact method before ANY). Only the same method twice conflicts.
    const other = methods.get(route.method);
    if (other !== undefined) {
      const o = api.routes[other];
      add(routePath, `${route.method} ${route.path} conflicts with apis[${apiIndex}].routes[${other}] ${o.method} ${o.path}`);
    } else {
      methods.set(route.method, r);
    }

    if (route.integration.type === 'http_proxy') {
      const greedy = parsed.segments.find((s) => s.kind === 'greedy');
      for (const message of checkIntegrationUrl(route.integration, parsed.paramNames, greedy?.name, api.stages)) {
        add([...routePath, 'integration', 'url'], message);
      }
    }
  });
}

type UrlPart = { kind: 'text' | 'variable' | 'param'; value: string };

const STAGE_VARIABLE_EXPRESSION = /^stageVariables\.([A-Za-z0-9_]{1,64})$/;
const PLACEHOLDER = /^[A-Za-z0-9_]+$/;

/** Splits an integration URL into text, ${stageVariables.x} and {param} parts; a string is a syntax error. */
function tokenizeUrl(url: string): UrlPart[] | string {
  const parts: UrlPart[] = [];
  let text = '';
  const flush = (): void => {
    if (text) parts.push({ kind: 'text', value: text });
    text = '';
  };
  for (let i = 0; i < url.length; ) {
    if (url.startsWith('${', i)) {
      const end = url.indexOf('}', i + 2);
      if (end < 0) return `unterminated "\${" at character ${i + 1}`;
      const expression = url.slice(i + 2, end);
      const m = STAGE_VARIABLE_EXPRESSION.exec(expression);
      if (!m) return `unsupported expression ${q(`\${${expression}}`)}: the only expression allowed in a URL is \${stageVariables.name}`;
      flush();
      parts.push({ kind: 'variable', value: m[1] });
      i = end + 1;
    } else if (url[i] === '{') {
      const end = url.indexOf('}', i + 1);
      const inner = end < 0 ? '' : url.slice(i + 1, end);
      if (end < 0 || inner.includes('{')) return `unmatched "{" at character ${i + 1}`;
      if (PLACEHOLDER.test(inner.slice(0, -1)) && inner.endsWith('+')) {
        return `write {${inner.slice(0, -1)}} without "+" in the URL: the greedy value is inserted as a path`;
      }
      if (!PLACEHOLDER.test(inner)) return `${q(`{${inner}}`)} is not a path parameter placeholder like {id}`;
      flush();
      parts.push({ kind: 'param', value: inner });
      i = end + 1;
    } else if (url[i] === '}') {
      return `unmatched "}" at character ${i + 1}`;
    } else {
      text += url[i++];
    }
  }
  flush();
  return parts;
}

// Stand-in for a path parameter while checking where it lands: a private-use character no URL contains.
const PARAM_MARK = '\uE000';
const SCHEME_AND_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/** Why a concrete upstream URL cannot be used, as the end of a sentence; undefined when it is fine. */
function urlDefect(url: string): string | undefined {
  if (/[\x00-\x20\x7f]/.test(url)) return 'contains a space or a control character';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid absolute URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `is not an http: or https: URL (found ${q(parsed.protocol)})`;
  if (parsed.username || parsed.password) return 'contains credentials (user:password@), which are not allowed';
  if (url.includes('#')) return 'contains a fragment (#...), which is never sent upstream';
  return undefined;
}

function checkIntegrationUrl(
  integration: HttpProxyIntegration,
  paramNames: readonly string[],
  greedyName: string | undefined,
  stages: Record<string, StageDefinition>,
): string[] {
  const parts = tokenizeUrl(integration.url);
  if (typeof parts === 'string') return [parts];
  const messages: string[] = [];

  for (const part of parts) {
    if (part.kind === 'param' && !paramNames.includes(part.value)) {
      const of = paramNames.length ? `; its parameters are ${listOf(paramNames.map((n) => `{${n}}`), 'and')}` : '';
      messages.push(`{${part.value}} is not a parameter of the route path${of}${didYouMean(part.value, paramNames)}`);
    }
  }
  if (messages.length) return messages;

  const variables = [...new Set(parts.filter((p) => p.kind === 'variable').map((p) => p.value))];
  const stageEntries = Object.entries(stages);
  // Without variables every stage yields the same URL: check it once and word the message without a stage.
  const targets: Array<[string | undefined, Record<string, string>]> =
    variables.length === 0 ? [[undefined, {}]] : stageEntries.map(([name, s]) => [name, s.variables]);

  const seen = new Set<string>();
  for (const [stageName, values] of targets) {
    const missing = variables.filter((v) => !Object.hasOwn(values, v));
    for (const v of missing) {
      messages.push(`stage ${q(stageName!)} has no variable ${q(v)} (the URL uses \${stageVariables.${v}})`);
    }
    if (missing.length) continue;

    const marked = parts
      .map((p) => (p.kind === 'text' ? p.value : p.kind === 'variable' ? values[p.value] : PARAM_MARK))
      .join('');
    const authority = SCHEME_AND_AUTHORITY.exec(marked)?.[0] ?? '';
    if (authority.includes(PARAM_MARK)) {
      // A client-chosen host would let any caller point the gateway at any server (SSRF).
      const message = 'a path parameter cannot be part of the scheme or host: put it in the path or query of the URL';
      if (!seen.has(message)) messages.push(message);
      seen.add(message);
      continue;
    }
    const concrete = parts
      .map((p) =>
        p.kind === 'text' ? p.value : p.kind === 'variable' ? values[p.value] : p.value === greedyName ? 'sample/path' : 'sample',
      )
      .join('');
    const defect = urlDefect(concrete);
    if (!defect) continue;
    const message =
      stageName === undefined
        ? `${q(concrete)} ${defect}`
        : `in stage ${q(stageName)} the URL becomes ${q(concrete)}, which ${defect}`;
    if (!seen.has(message)) messages.push(message);
    seen.add(message);
  }
  return messages;
}

const HEADER_VALUE_FORMS: readonly RegExp[] = [
  /^'.*'$/s,
  /^method\.request\.header\.[!#$%&'*+.^_`|~0-9A-Za-z-]+$/,
  /^method\.request\.path\.[A-Za-z0-9_]+$/,
  /^method\.request\.querystring\.[^\s&=#]+$/,
  /^stageVariables\.[A-Za-z0-9_]{1,64}$/,
];

function checkGatewayResponses(api: ApiDefinition, apiIndex: number, add: Add): void {
  for (const [type, response] of Object.entries(api.gatewayResponses ?? {})) {
    for (const [header, value] of Object.entries(response?.headers ?? {})) {
      if (value.length >= 2 && HEADER_VALUE_FORMS.some((form) => form.test(value))) continue;
      const looksLiteral = !value.startsWith('method.') && !value.startsWith('stageVariables.');
      const hint = looksLiteral ? ` (for the literal text write "'${value}'")` : '';
      add(
        ['apis', apiIndex, 'gatewayResponses', type, 'headers', header],
        `${q(value)} is not an accepted header value${hint}; write 'text' in single quotes, method.request.header.NAME, ` +
          'method.request.path.NAME, method.request.querystring.NAME or stageVariables.NAME',
      );
    }
  }
}

function checkRouteThrottles(api: ApiDefinition, apiIndex: number, add: Add): void {
  // Route path as written → its methods; AWS keys method settings by resourcePath + "/" + httpMethod.
  const methodsByPath = new Map<string, Set<string>>();
  for (const route of api.routes) {
    let methods = methodsByPath.get(route.path);
    if (!methods) methodsByPath.set(route.path, (methods = new Set()));
    methods.add(route.method);
  }
  for (const [stageName, stage] of Object.entries(api.stages)) {
    for (const key of Object.keys(stage.routeThrottles ?? {})) {
      if (key === '*/*') continue;
      const path: PathSegment[] = ['apis', apiIndex, 'stages', stageName, 'routeThrottles', key];
      const slash = key.lastIndexOf('/');
      if (slash < 0 || !key.startsWith('/')) {
        add(path, `${q(key)} is not a route key: write "/path/METHOD" (for example "/pets/GET"), or "*/*" for every route`);
        continue;
      }
      const resourcePath = slash === 0 ? '' : key.slice(0, slash);
      const method = key.slice(slash + 1);
      if (resourcePath === '') {
        add(path, `${q(key)} has no path: write "/path/METHOD"; the root path's key is "//${method || 'GET'}"`);
        continue;
      }
      if (!METHODS_AND_ANY.includes(method)) {
        const upper = method.toUpperCase();
        add(
          path,
          METHODS_AND_ANY.includes(upper)
            ? `method ${q(method)} must be written in capitals: ${q(`${resourcePath}/${upper}`)}`
            : `${q(method)} is not a method; the key ends with one of ${listOf(METHODS_AND_ANY)}`,
        );
        continue;
      }
      const methods = methodsByPath.get(resourcePath);
      if (!methods) {
        const hint =
          methodsByPath.size <= MAX_SUGGESTION_CANDIDATES ? didYouMean(resourcePath, methodsByPath.keys()) : '';
        add(path, `no route has the path ${q(resourcePath)}${hint}`);
      } else if (!methods.has(method)) {
        const routes = [...methods].sort();
        const any = methods.has('ANY') ? `; requests to ${method} ${resourcePath} use the ANY route, keyed ${q(`${resourcePath}/ANY`)}` : '';
        add(path, `no ${method} route on ${resourcePath} (it has ${listOf(routes, 'and')})${any}`);
      }
    }
  }
}
