// The compiled shapes a Snapshot is made of (snapshot.ts builds them, domain-index.ts and the request path
// read them): one file of types, so the modules that compile and the ones that select do not import each other.
import type { createRouter } from './router.ts';
import type { GatewayResponder } from './gateway-responses.ts';
import type { IntegrationFn } from './integrations/types.ts';
import type { RequestContext, RouteRef } from './pipeline/context.ts';
import type { StageFn } from './pipeline/stage.ts';

export interface CompiledRoute extends RouteRef {
  readonly method: string;
  /** Stage functions in lifecycle order; empty when no stage applies. */
  readonly chain: readonly StageFn[];
  readonly integration: IntegrationFn;
  /** The API's gateway responses, for a Denial the integration reports. */
  readonly responder: GatewayResponder;
}

export interface CompiledStage {
  readonly name: string;
  readonly variables: Readonly<Record<string, string>>;
  readonly router: ReturnType<typeof createRouter<CompiledRoute>>;
  readonly accessLog: ((ctx: RequestContext) => string) | null;
}

export interface CompiledApi {
  readonly id: string;
  readonly name: string;
  /** '' for the root base path, else '/seg/seg'. */
  readonly prefix: string;
  readonly responder: GatewayResponder;
  readonly stages: ReadonlyMap<string, CompiledStage>;
}

export interface ApiSelection {
  readonly api: CompiledApi;
  readonly stage: CompiledStage | undefined;
  readonly stageName: string;
  /** The path inside the stage, raw (percent-encoded), '/' at least. */
  readonly stagePath: string;
  /** Set when a custom domain name (definition `domains`) selected the API. */
  readonly domain?: string;
  /** $context.customDomain.basePathMatched. */
  readonly basePathMatched?: string;
}

