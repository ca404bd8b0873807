// The registry of pipeline stages, in lifecycle order. Later capabilities (resource policies,
// authenticators, API keys and usage plans, validation) add their factories here.
import type { StageFactory } from '../pipeline/stage.ts';
import { PHASES } from '../pipeline/phases.ts';
import { throttleStage, type ThrottleDeps } from './throttle/stage.ts';
import { jwtAuthStage, type JwtAuthDeps } from './jwt-auth/stage.ts';
import { customAuthStage, type CustomAuthDeps } from './custom-auth/stage.ts';
import { apiKeyStage, type ApiKeyDeps } from './api-key/stage.ts';
import { authorizeStage, resourcePolicyStage } from './authorize/stage.ts';
import { iamAuthStage, type IamAuthDeps } from './iam-auth/stage.ts';
import { mtlsAuthStage } from './mtls-auth/stage.ts';

export type StageDeps = ThrottleDeps & ApiKeyDeps & IamAuthDeps & CustomAuthDeps & JwtAuthDeps;

const registered: StageFactory<StageDeps>[] = [throttleStage, jwtAuthStage, customAuthStage, apiKeyStage, resourcePolicyStage, authorizeStage, iamAuthStage, mtlsAuthStage];

/** Factories sorted by phase (stable within a phase). */
export const STAGE_FACTORIES: readonly StageFactory<StageDeps>[] = Object.freeze(
  [...registered].sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase)),
);
