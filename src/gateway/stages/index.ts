// The registry of pipeline stages, in lifecycle order. Later capabilities (resource policies,
// authenticators, API keys and usage plans, validation) add their factories here.
import type { StageFactory } from '../pipeline/stage.ts';
import { PHASES } from '../pipeline/phases.ts';
import { throttleStage, type ThrottleDeps } from './throttle/stage.ts';

export type StageDeps = ThrottleDeps;

const registered: StageFactory<StageDeps>[] = [throttleStage];

/** Factories sorted by phase (stable within a phase). */
export const STAGE_FACTORIES: readonly StageFactory<StageDeps>[] = Object.freeze(
  [...registered].sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase)),
);
