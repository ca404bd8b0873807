// The method (invocation) ARN of a request, `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`,
// built from a per-route prefix and the real request path (the route template with this request's parameters).
import type { RouteBuild } from '../../pipeline/stage.ts';
import type { RequestContext } from '../../pipeline/context.ts';

export type MethodArnBuilder = (ctx: RequestContext) => string;

const PARAM = /\{([A-Za-z0-9_]+)\+?\}/g;

/** Compiled per route: the constant prefix is built once; a static route's path is constant too. */
export function createMethodArnBuilder(build: RouteBuild<unknown>): MethodArnBuilder {
  const { region, accountId } = build.definition.settings;
  const prefix = `arn:aws:execute-api:${region}:${accountId}:${build.apiId}/${build.stageName}/`;
  const template = build.route.path;
  if (!template.includes('{')) {
    const tail = '/' + template.slice(1);
    return (ctx) => prefix + ctx.httpMethod + tail;
  }
  return (ctx) => {
    const params = ctx.pathParameters;
    return prefix + ctx.httpMethod + '/' + template.replace(PARAM, (_m, n: string) => params[n] ?? '').slice(1);
  };
}
