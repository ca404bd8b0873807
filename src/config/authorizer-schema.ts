// The `authorizers` section of a definition: JWT (HTTP-API flavour), Cognito user pools, and custom
// (Lambda-style) TOKEN and REQUEST authorizers called over HTTP. Routes name them in `auth.authorizer`.
import { z } from 'zod';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** Algorithms a JWT authorizer accepts; `none` is not in the list and can never be configured. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'] as const;
export const DEFAULT_JWT_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'] as const;

/** Where a custom authorizer reads identity: header.X, query.X, context.X or stageVariables.X (AWS's identity sources). */
export const IDENTITY_SOURCE = /^(header|query|context|stageVariables)\.[A-Za-z0-9._~!#$%&'*+^`|-]{1,256}$/;

const ClaimHeadersSchema = z
  .record(z.string().regex(HEADER_NAME, 'not a valid header name'), z.string().min(1).max(256))
  .default({})
  .describe('Upstream header name → claim name. Client-supplied copies of these headers are always removed.');

const JwksLimitsSchema = z
  .strictObject({
    ttlSeconds: z.number().int().min(10).max(86_400).default(600).describe('Key set age after which it is refreshed in the background.'),
    cooldownSeconds: z.number().int().min(1).max(3_600).default(30).describe('At most one refetch per this period for tokens with an unknown kid.'),
    maxBytes: z.number().int().min(1_024).max(1_048_576).default(150_000).describe('Largest JWKS or discovery response accepted (AWS: 150,000).'),
    timeoutMs: z.number().int().min(100).max(30_000).default(1_500).describe('JWKS and discovery fetch timeout (AWS: 1,500 ms).'),
  })
  .default({ ttlSeconds: 600, cooldownSeconds: 30, maxBytes: 150_000, timeoutMs: 1_500 });

const jwtCommon = {
  tokenHeader: z.string().regex(HEADER_NAME).default('Authorization').describe('Header carrying the token, bare or as "Bearer <token>".'),
  algorithms: z
    .array(z.enum(JWT_ALGORITHMS))
    .min(1)
    .default([...DEFAULT_JWT_ALGORITHMS])
    .describe('Accepted signature algorithms; "none" is never accepted, HS* only with hmacSecretEnv.'),
  hmacSecretEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]{0,127}$/)
    .optional()
    .describe('Environment variable holding the shared secret for HS256/384/512 (at least 32 bytes).'),
  clockLeewaySeconds: z.number().int().min(0).max(300).default(0).describe('Tolerance for exp, nbf and iat.'),
  jwksUrl: z.string().max(2048).optional().describe('Explicit JWKS URL; https required (http only for localhost/127.0.0.1, for development).'),
  jwks: JwksLimitsSchema,
  claimHeaders: ClaimHeadersSchema,
  maxTokenBytes: z.number().int().min(256).max(65_536).default(8_192).describe('Longer tokens are refused before any parsing.'),
  tokenCacheSize: z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(10_000)
    .describe('Verified tokens remembered (by SHA-256 of the token, never past exp); 0 turns the cache off.'),
};

// A Cognito pool's JWKS URL is per pool (userPools[].jwksUrl), not per authorizer.
const { jwksUrl: _poolLevel, ...cognitoCommon } = jwtCommon;

export const JwtAuthorizerSchema = z
  .strictObject({
    type: z.literal('jwt'),
    issuer: z.string().min(1).max(2048).describe('Expected iss; OIDC discovery starts at <issuer>/.well-known/openid-configuration.'),
    audiences: z.array(z.string().min(1).max(1024)).min(1).max(50).describe('Accepted aud values (client_id when the token has no aud).'),
    ...jwtCommon,
  })
  .describe('HTTP-API JWT authorizer: iss, aud (or client_id), exp, nbf, iat, and route scopes from scope/scp.');

export const CognitoAuthorizerSchema = z
  .strictObject({
    type: z.literal('cognito'),
    userPools: z
      .array(
        z.strictObject({
          poolId: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d_[A-Za-z0-9]+$/, 'a user pool id looks like us-east-1_AbC123').optional(),
          issuer: z.string().min(1).max(2048).optional().describe('Issuer of a Cognito-compatible pool (default https://cognito-idp.<region>.amazonaws.com/<poolId>).'),
          jwksUrl: z.string().max(2048).optional().describe('Default <issuer>/.well-known/jwks.json.'),
        }),
      )
      .min(1)
      .max(1_000),
    clientIds: z.array(z.string().min(1).max(128)).max(100).optional().describe('App client ids accepted (aud of ID tokens, client_id of access tokens); absent = any.'),
    validationRegex: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('AWS identityValidationExpression: the token\'s aud (app client id) must match; access tokens, which have no aud, are then refused.'),
    ...cognitoCommon,
  })
  .describe('Cognito user-pool authorizer: ID tokens for routes without scopes, access tokens for routes with scopes.');

export const CustomAuthorizerSchema = z
  .strictObject({
    type: z.enum(['token', 'request']),
    url: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .describe('HTTP endpoint that receives AWS\'s authorizer event as JSON (POST) and answers with the authorizer result.'),
    module: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.(mjs|cjs|js)$/, 'a module is a file name (no directories) ending in .mjs, .cjs or .js')
      .optional()
      .describe('Instead of url: a JavaScript module in the node\'s PORTCULLIS_AUTHORIZER_MODULES_DIR whose handler(event) answers like a Lambda authorizer.'),
    identitySources: z
      .array(z.string().regex(IDENTITY_SOURCE, 'identity sources are header.X, query.X, context.X or stageVariables.X'))
      .max(20)
      .optional()
      .describe('token: one header source (default header.Authorization); request: any sources, all required when caching.'),
    validationRegex: z.string().min(1).max(1024).optional().describe('token only: a token not matching is refused with 401 without calling the authorizer.'),
    resultTtlSeconds: z.number().int().min(0).max(3_600).default(300).describe('Result cache TTL (AWS: default 300, at most 3600, 0 disables).'),
    timeoutMs: z.number().int().min(100).max(29_000).default(10_000),
    simpleResponses: z.boolean().default(false).describe('Expect the HTTP-API simple form {isAuthorized, context} instead of an IAM policy.'),
    contextHeaders: ClaimHeadersSchema.describe('Upstream header name → context key (or principalId). Client-supplied copies are removed.'),
  })
  .describe('Custom authorizer with AWS Lambda authorizer semantics, called over HTTP.');

export const AuthorizerSchema = z.discriminatedUnion('type', [JwtAuthorizerSchema, CognitoAuthorizerSchema, CustomAuthorizerSchema]);

export const AuthorizersSchema = z
  .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'authorizer names are 1-128 letters, digits, ".", "_" or "-"'), AuthorizerSchema)
  .default({})
  .describe('Authorizers by name; a route uses one with auth: { authorizer: name, scopes? }.');

export type JwtAuthorizer = z.infer<typeof JwtAuthorizerSchema>;
export type CognitoAuthorizer = z.infer<typeof CognitoAuthorizerSchema>;
export type CustomAuthorizer = z.infer<typeof CustomAuthorizerSchema>;
export type Authorizer = z.infer<typeof AuthorizerSchema>;
