// The shape of a pipeline stage (STYLE.md 1): settings are validated and compiled once per snapshot
// in the factory; the returned function runs per request and returns a Denial or nothing.
import type { Denial } from '../../core/denial.ts';
import type { RequestContext } from './context.ts';
import type { StagePhase } from './phases.ts';

export type StageResult = Denial | undefined;
export type StageFn = (ctx: RequestContext) => StageResult | Promise<StageResult>;

/** What a stage factory sees when a route is compiled for one API stage. */
export interface RouteBuild<Deps = unknown> {
  readonly api: import('../../config/schema.ts').ApiDefinition;
  readonly apiId: string;
  readonly stageName: string;
  readonly stage: import('../../config/schema.ts').StageDefinition;
  readonly route: import('../../config/schema.ts').RouteDefinition;
  readonly definition: import('../../config/schema.ts').Definition;
  readonly deps: Deps;
}

export interface StageFactory<Deps = unknown> {
  /** kebab-case stage name, used in execution logs and metrics. */
  readonly name: string;
  readonly phase: StagePhase;
  /** Returns the per-request function, or null when the stage does not apply to this route. */
  create(build: RouteBuild<Deps>): StageFn | null;
}
