// Settings of the throttle stage: the account-level bucket (from the node's options) and how AWS keys
// per-route method settings ("/pets/GET", "//GET" for the root, "*/*" for every route of the stage).
import { ThrottleSchema, type Throttle } from '../../../config/schema.ts';

/** AWS account default per region: 10,000 rps, burst 5,000 (reference section 4.3). */
export const ACCOUNT_THROTTLE_DEFAULT: Readonly<Throttle> = Object.freeze({ rateLimit: 10_000, burstLimit: 5_000 });

export const AccountThrottleSchema = ThrottleSchema.default({ ...ACCOUNT_THROTTLE_DEFAULT }).describe(
  'Account-level token bucket shared by every API and stage this gateway serves (AWS default: 10,000 rps, burst 5,000).',
);

/** The routeThrottles entry that applies to every route of a stage without an entry of its own. */
export const ALL_ROUTES_KEY = '*/*';

/** AWS method-settings key: resourcePath + "/" + METHOD; the root "/" gives "//GET", an ANY route "/x/ANY". */
export function routeThrottleKey(path: string, method: string): string {
  return `${path}/${method}`;
}

/** Bucket keys: stable across recompiles and nodes, so a new snapshot keeps counting where the last one was. */
export const bucketKeys = {
  account: (): string => 'acct',
  stage: (apiId: string, stage: string): string => `s:${apiId}:${stage}`,
  route: (apiId: string, stage: string, method: string, path: string): string => `r:${apiId}:${stage}:${method}:${path}`,
} as const;
