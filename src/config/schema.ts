// The API definition schema: one source for validation, TypeScript types, the shipped JSON Schema
// (schema/definition.schema.json) and docs/configuration.md. Unknown keys are rejected everywhere.
import { z } from 'zod';
import { CUSTOMIZABLE_RESPONSE_TYPES } from '../core/gateway-responses.ts';
import { AuthorizersSchema } from './authorizer-schema.ts';
import { UsagePlansSchema } from './usage-plan-schema.ts';
import { DomainsSchema, HstsSchema, TrustedProxiesSchema, UpstreamTlsSchema } from './tls-schema.ts';
import { MonitoringSchema } from '../observe/alarms/schema.ts';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const VARIABLE_NAME = /^[A-Za-z0-9_]{1,64}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
// Capitals are allowed although hosts are lowercased first: the JSON Schema for editors sees the input as written.
const HOST = /^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export const ThrottleSchema = z
  .strictObject({
    rateLimit: z.number().min(0).max(1_000_000).describe('Steady-state requests per second (token refill rate).'),
    burstLimit: z.number().int().min(0).max(1_000_000).describe('Bucket capacity: requests allowed in a burst.'),
  })
  .describe('A token bucket: refills continuously at rateLimit, holds at most burstLimit, starts full.');

export const StageSchema = z
  .strictObject({
    description: z.string().max(1024).optional(),
    variables: z
      .record(z.string().regex(VARIABLE_NAME, 'stage variable names are letters, digits and _'), z.string().max(2048))
      .default({})
      .describe('Stage variables, usable in integration URLs as ${stageVariables.name}.'),
    throttle: ThrottleSchema.optional().describe('Stage-wide throttle shared by all clients.'),
    routeThrottles: z
      .record(z.string(), ThrottleSchema)
      .optional()
      .describe('Per-route throttles keyed "/path/METHOD" as in AWS method settings (for example "/pets/GET").'),
    accessLog: z
      .strictObject({
        format: z
          .string()
          .min(1)
          .max(3072)
          .default('JSON')
          .describe('JSON, CLF, CSV, XML or a custom line of $context variables.'),
        enabled: z.boolean().default(true),
      })
      .optional(),
    executionLog: z
      .strictObject({
        level: z
          .enum(['OFF', 'ERROR', 'INFO'])
          .default('OFF')
          .describe('OFF (default), ERROR (refused and failed requests) or INFO (every request), as AWS loggingLevel.'),
      })
      .optional()
      .describe('Execution logs of this stage through the application logger (docs/audit.md).'),
  })
  .describe('A stage: a named deployment of the API (the first path segment after the base path).');

export const HttpProxyIntegrationSchema = z.strictObject({
  type: z.literal('http_proxy'),
  url: z
    .string()
    .min(1)
    .max(2048)
    .describe('Target URL; may use {pathParam}, {proxy} and ${stageVariables.name}. The request query string is appended.'),
  timeoutMs: z.number().int().min(50).max(300_000).default(29_000).describe('Integration timeout (AWS default 29 s).'),
  connectTimeoutMs: z.number().int().min(10).max(60_000).default(10_000),
  tls: UpstreamTlsSchema.optional(),
});

export const MockIntegrationSchema = z.strictObject({
  type: z.literal('mock'),
  statusCode: z.number().int().min(100).max(599).default(200),
  headers: z.record(z.string().regex(HEADER_NAME, 'not a valid header name'), z.string().max(8192)).default({}),
  body: z
    .union([z.string().max(1_048_576), z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .optional()
    .describe('A string is sent as is; an object or array is sent as JSON.'),
});

export const IntegrationSchema = z.discriminatedUnion('type', [HttpProxyIntegrationSchema, MockIntegrationSchema]);

/**
 * How a route authenticates callers. A build refuses a definition that names an auth type no registered
 * stage enforces (src/gateway/snapshot.ts), so a route can never be silently left open.
 */
export const RouteAuthSchema = z
  .union([
    z.enum(['none', 'iam', 'mtls']),
    z.strictObject({
      authorizer: z.string().min(1).max(128).describe('Name of an authorizer defined under `authorizers`.'),
      scopes: z.array(z.string().min(1).max(256)).max(50).optional().describe('Any one of these scopes suffices.'),
    }),
  ])
  .describe('none, iam (Signature V4), mtls (client certificate), or { authorizer, scopes }.');

export const RouteSchema = z.strictObject({
  method: z.enum([...HTTP_METHODS, 'ANY']).describe('HTTP method, or ANY for every method.'),
  path: z
    .string()
    .min(1)
    .max(1024)
    .describe('Path template inside the stage: /pets/{id}, greedy /files/{proxy+} as the last segment.'),
  description: z.string().max(1024).optional(),
  auth: RouteAuthSchema.default('none'),
  apiKeyRequired: z
    .boolean()
    .default(false)
    .describe('Require an API key (x-api-key header, or the authorizer\'s usageIdentifierKey) in a usage plan for this stage.'),
  integration: IntegrationSchema,
});

export const GatewayResponseSchema = z
  .strictObject({
    statusCode: z.number().int().min(100).max(599).optional(),
    headers: z
      .record(z.string().regex(HEADER_NAME, 'not a valid header name'), z.string().max(8192))
      .optional()
      .describe("Values are 'literal' in single quotes, or method.request.header.X / .path.X / .querystring.X / stageVariables.X."),
    templates: z
      .record(z.string().min(1).max(256), z.string().max(65_536))
      .optional()
      .describe('Body template per content type; $context.*, $stageVariables.* and method.request.* are substituted.'),
  })
  .describe('Overrides a gateway response type for this API, as AWS gateway responses do.');

const responseTypeKeys = CUSTOMIZABLE_RESPONSE_TYPES as [string, ...string[]];

export const ApiSchema = z.strictObject({
  name: z
    .string()
    .regex(NAME, 'names are 1-128 letters, digits, ".", "_" or "-"')
    .describe('Unique name of the API; usage plans and the admin API refer to it.'),
  id: z
    .string()
    .regex(/^[a-z0-9]{10}$/, 'an API id is 10 lowercase letters or digits')
    .optional()
    .describe('The API id used in ARNs and $context.apiId; derived from the name when absent.'),
  description: z.string().max(1024).optional(),
  basePath: z.string().max(256).default('/').describe('Path prefix that selects this API, for example /pets-api.'),
  hosts: z
    .array(z.string().toLowerCase().regex(HOST, 'not a valid host name'))
    .max(100)
    .optional()
    .describe('Host names that select this API (case-insensitive, port ignored). Absent: any host.'),
  stages: z
    .record(z.string().regex(STAGE_NAME, 'stage names are letters, digits, _ and -'), StageSchema)
    .describe('Stages by name; a request path is basePath + "/" + stage + route path.'),
  routes: z
    .array(RouteSchema)
    .max(100_000)
    .describe('Method + path template → integration. Every stage serves every route.'),
  apiKeySource: z
    .enum(['HEADER', 'AUTHORIZER'])
    .default('HEADER')
    .describe('Where API keys come from: the x-api-key header, or a custom authorizer\'s usageIdentifierKey.'),
  resourcePolicy: z
    .unknown()
    .optional()
    .describe('IAM resource policy document for the API (validated by the policy engine).'),
  gatewayResponses: z
    .partialRecord(z.enum(responseTypeKeys), GatewayResponseSchema)
    .optional()
    .describe('Per-API overrides of gateway responses, by response type (THROTTLED, ACCESS_DENIED, DEFAULT_4XX...).'),
});

export const SettingsSchema = z.strictObject({
  region: z.string().regex(/^[a-z0-9-]{1,32}$/).default('us-east-1').describe('Region used in ARNs.'),
  accountId: z.string().regex(/^\d{12}$/, 'an account id is 12 digits').default('123456789012'),
  maxRequestBodyBytes: z.number().int().min(0).max(1 << 30).default(10 * 1024 * 1024),
  maxHeaderBytes: z.number().int().min(1024).max(65_536).default(10_240),
  maxUriBytes: z.number().int().min(256).max(65_536).default(10_240),
  accountThrottle: ThrottleSchema.default({ rateLimit: 10_000, burstLimit: 5_000 }).describe(
    'Account-level token bucket shared by every API and stage (AWS default: 10,000 rps, burst 5,000).',
  ),
  accessLog: z
    .strictObject({
      format: z.string().min(1).max(3072).default('JSON'),
      enabled: z.boolean().default(true),
    })
    .default({ format: 'JSON', enabled: true })
    .describe('Default access-log settings; a stage may override them.'),
  hsts: HstsSchema,
  trustedProxies: TrustedProxiesSchema,
});

export const DefinitionSchema = z.strictObject({
  $schema: z.string().optional().describe('Path or URL of this JSON Schema, for editors; ignored by the gateway.'),
  version: z.literal(1).default(1).describe('Version of the definition format.'),
  settings: SettingsSchema.default(SettingsSchema.parse({})).describe('Gateway-wide settings.'),
  apis: z.array(ApiSchema).max(10_000).describe('The APIs this gateway serves.'),
  authorizers: AuthorizersSchema,
  usagePlans: UsagePlansSchema,
  domains: DomainsSchema,
  monitoring: MonitoringSchema.optional(),
});

export type Throttle = z.infer<typeof ThrottleSchema>;
export type StageDefinition = z.infer<typeof StageSchema>;
export type HttpProxyIntegration = z.infer<typeof HttpProxyIntegrationSchema>;
export type MockIntegration = z.infer<typeof MockIntegrationSchema>;
export type Integration = z.infer<typeof IntegrationSchema>;
export type RouteDefinition = z.infer<typeof RouteSchema>;
export type RouteAuth = z.infer<typeof RouteAuthSchema>;
export type GatewayResponseDefinition = z.infer<typeof GatewayResponseSchema>;
export type ApiDefinition = z.infer<typeof ApiSchema>;
export type Settings = z.infer<typeof SettingsSchema>;
export type Definition = z.infer<typeof DefinitionSchema>;
