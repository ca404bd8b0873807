// The admin API's own OpenAPI 3.1 document, served at GET /v1/openapi.json. A test keeps it and the
// server's route table in step (every route documented, every documented operation served, same roles).
import { VERSION } from '../core/version.ts';
import { readFileSync } from 'node:fs';
import { ADMIN_ROLES } from '../store/ports.ts';
import { ADMIN_ERRORS } from './admin-errors.ts';
import { KEY_OPENAPI_PATHS } from './openapi-keys.ts';
import { AUDIT_OPENAPI_PATHS } from './openapi-audit.ts';
import { ALARM_OPENAPI_PATHS } from './openapi-alarms.ts';
import { IAM_OPENAPI_PATHS } from './openapi-iam.ts';

/** Marks each operation with the least role that may call it; absent means no token is needed. */
export const ROLE_EXTENSION = 'x-portcullis-role';

const version = VERSION;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
const err = {
  400: errorResponse('Malformed request.'),
  401: errorResponse('Missing, unknown or revoked token.'),
  403: errorResponse('The token lacks the role this endpoint needs.'),
  404: errorResponse('No such resource.'),
  409: errorResponse('Refused: the change would leave the gateway unmanageable.'),
  413: errorResponse('Body too large.'),
  415: errorResponse('Unsupported Content-Type.'),
};
const secured = { security: [{ bearerAuth: [] }] };
const definitionBody = {
  required: true,
  description: 'The API definition as YAML or JSON text (at most 20 MB).',
  content: {
    'application/yaml': { schema: { type: 'string' } },
    'application/json': { schema: { type: 'string' } },
    'text/plain': { schema: { type: 'string' } },
  },
};
const revisionParam = {
  name: 'revision',
  in: 'path',
  required: true,
  description: 'A revision number.',
  schema: { type: 'integer', minimum: 1 },
};
const limitParam = (max: number, dflt: number) => ({
  name: 'limit',
  in: 'query',
  required: false,
  schema: { type: 'integer', minimum: 1, maximum: max, default: dflt },
});

const nullableString = { type: ['string', 'null'] };
const timestamp = { type: 'string', format: 'date-time' };

export const ADMIN_OPENAPI = deepFreeze({
  openapi: '3.1.0',
  info: {
    title: 'Portcullis admin API',
    version,
    description:
      'Deploys, revisions, rollback and admin tokens of a Portcullis gateway. Authenticate with ' +
      '`Authorization: Bearer <token>`. Roles: read-only (GET endpoints and /metrics), operator (+ validate, ' +
      'deploy, rollback), admin (+ tokens). Every response carries `x-request-id`.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  servers: [{ url: 'http://127.0.0.1:9090', description: 'The default admin listener' }],
  paths: {
    '/healthz': {
      get: {
        operationId: 'health',
        summary: 'The process is alive.',
        security: [],
        responses: { 200: { description: 'Alive.', content: json(ref('Health')) } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readiness',
        summary: 'Ready to serve: a revision is installed and the store answers.',
        security: [],
        responses: {
          200: { description: 'Ready.', content: json(ref('Readiness')) },
          503: { description: 'Not ready; `checks` says why.', content: json(ref('Readiness')) },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics (text exposition format).',
        ...secured,
        [ROLE_EXTENSION]: 'read-only',
        responses: {
          200: { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
          401: err[401],
          403: err[403],
        },
      },
    },
    '/v1/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document.',
        security: [],
        responses: { 200: { description: 'The OpenAPI 3.1 document.', content: json({ type: 'object' }) } },
      },
    },
    '/v1/validate': {
      post: {
        operationId: 'validateDefinition',
        summary: 'Validates a definition (schema, semantic and compile checks) without storing it.',
        ...secured,
        [ROLE_EXTENSION]: 'operator',
        requestBody: definitionBody,
        responses: {
          200: { description: 'Valid.', content: json(ref('ValidationSuccess')) },
          400: { description: 'Invalid; every problem is listed.', content: json(ref('ValidationFailure')) },
          401: err[401],
          403: err[403],
          413: err[413],
          415: err[415],
        },
      },
    },
    '/v1/deployments': {
      get: {
        operationId: 'listDeployments',
        summary: 'Deployment history, newest first.',
        ...secured,
        [ROLE_EXTENSION]: 'read-only',
        parameters: [limitParam(1000, 50)],
        responses: {
          200: {
            description: 'Deployments.',
            content: json({
              type: 'object',
              required: ['deployments'],
              properties: { deployments: { type: 'array', items: ref('Deployment') } },
            }),
          },
          400: err[400],
          401: err[401],
          403: err[403],
        },
      },
      post: {
        operationId: 'deploy',
        summary: 'Stores the definition as a new revision and deploys it on every node.',
        description:
          'An invalid definition is rejected whole: nothing is stored and the running revision keeps serving. ' +
          'Content identical to the active revision deploys nothing (200, `unchanged: true`).',
        ...secured,
        [ROLE_EXTENSION]: 'operator',
        parameters: [{ name: 'comment', in: 'query', required: false, schema: { type: 'string', maxLength: 1024 } }],
        requestBody: definitionBody,
        responses: {
          200: { description: 'Unchanged: the content is already active.', content: json(ref('DeployResult')) },
          201: { description: 'Deployed as a new revision.', content: json(ref('DeployResult')) },
          400: { description: 'Invalid definition or request.', content: json(ref('Error')) },
          401: err[401],
          403: err[403],
          413: err[413],
          415: err[415],
        },
      },
    },
    '/v1/deployments/current': {
      get: {
        operationId: 'currentDeployment',
        summary: 'The active deployment, its revision and what this node serves.',
        ...secured,
        [ROLE_EXTENSION]: 'read-only',
        responses: {
          200: { description: 'The active deployment.', content: json(ref('CurrentDeployment')) },
          401: err[401],
          403: err[403],
          404: err[404],
        },
      },
    },
    '/v1/revisions': {
      get: {
        operationId: 'listRevisions',
        summary: 'Stored revisions, newest first.',
        ...secured,
        [ROLE_EXTENSION]: 'read-only',
        parameters: [
          limitParam(1000, 50),
          { name: 'before', in: 'query', required: false, description: 'Only revisions numbered below this.', schema: { type: 'integer', minimum: 1 } },
        ],
        responses: {
          200: {
            description: 'Revisions.',
            content: json({
              type: 'object',
              required: ['revisions', 'activeRevision', 'nextBefore'],
              properties: {
                revisions: { type: 'array', items: ref('RevisionSummary') },
                activeRevision: { type: ['integer', 'null'] },
                nextBefore: { type: ['integer', 'null'], description: 'Pass as `before` for the next page; null on the last.' },
              },
            }),
          },
          400: err[400],
          401: err[401],
          403: err[403],
        },
      },
    },
    '/v1/revisions/{revision}': {
      get: {
        operationId: 'getRevision',
        summary: 'One revision: its metadata and source.',
        ...secured,
        [ROLE_EXTENSION]: 'read-only',
        parameters: [revisionParam],
        responses: {
          200: {
            description: 'The revision.',
            content: json({
              type: 'object',
              required: ['revision', 'active'],
              properties: { revision: ref('Revision'), active: { type: 'boolean' } },
            }),
          },
          400: err[400],
          401: err[401],
          403: err[403],
          404: err[404],
        },
      },
    },
    '/v1/revisions/{revision}/deploy': {
      post: {
        operationId: 'rollback',
        summary: 'Deploys a stored revision again (rollback), checked and compiled by the running code.',
        ...secured,
        [ROLE_EXTENSION]: 'operator',
        parameters: [revisionParam],
        responses: {
          200: { description: 'The revision is already active.', content: json(ref('DeployResult')) },
          201: { description: 'Deployed.', content: json(ref('DeployResult')) },
          400: { description: 'The revision no longer passes the checks.', content: json(ref('Error')) },
          401: err[401],
          403: err[403],
          404: err[404],
        },
      },
    },
    '/v1/admin-tokens': {
      get: {
        operationId: 'listAdminTokens',
        summary: 'Admin tokens (never their values).',
        ...secured,
        [ROLE_EXTENSION]: 'admin',
        responses: {
          200: {
            description: 'Tokens.',
            content: json({ type: 'object', required: ['tokens'], properties: { tokens: { type: 'array', items: ref('AdminToken') } } }),
          },
          401: err[401],
          403: err[403],
        },
      },
      post: {
        operationId: 'createAdminToken',
        summary: 'Creates an admin token; its value is in this response only.',
        ...secured,
        [ROLE_EXTENSION]: 'admin',
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            additionalProperties: false,
            required: ['name', 'role'],
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 128 },
              role: { type: 'string', enum: [...ADMIN_ROLES] },
            },
          }),
        },
        responses: {
          201: {
            description: 'Created.',
            content: json({
              type: 'object',
              required: ['token', 'value'],
              properties: { token: ref('AdminToken'), value: { type: 'string', description: 'Shown once; store it now.' } },
            }),
          },
          400: err[400],
          401: err[401],
          403: err[403],
          413: err[413],
          415: err[415],
        },
      },
    },
    '/v1/admin-tokens/{id}': {
      delete: {
        operationId: 'revokeAdminToken',
        summary: 'Revokes a token (idempotent). The last active admin token cannot be revoked.',
        ...secured,
        [ROLE_EXTENSION]: 'admin',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: {
            description: 'Revoked.',
            content: json({ type: 'object', required: ['token'], properties: { token: ref('AdminToken') } }),
          },
          401: err[401],
          403: err[403],
          404: err[404],
          409: err[409],
        },
      },
    },
    ...KEY_OPENAPI_PATHS,
    ...AUDIT_OPENAPI_PATHS,
    ...ALARM_OPENAPI_PATHS,
    ...IAM_OPENAPI_PATHS,
  },
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'An admin token (pcat_...).' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', enum: Object.keys(ADMIN_ERRORS) },
              message: { type: 'string' },
              requiredRole: { type: 'string', enum: [...ADMIN_ROLES], description: 'With FORBIDDEN.' },
            },
          },
          problems: { type: 'array', items: ref('Problem'), description: 'With INVALID_DEFINITION.' },
        },
        description: Object.entries(ADMIN_ERRORS)
          .map(([code, e]) => `- \`${code}\` (${e.status}): ${e.description}`)
          .join('\n'),
      },
      Problem: {
        type: 'object',
        required: ['path', 'message'],
        properties: {
          path: { type: 'string', description: 'Where in the definition, for example apis[0].routes[2].path.' },
          message: { type: 'string' },
          line: { type: 'integer', minimum: 1 },
          column: { type: 'integer', minimum: 1 },
        },
      },
      Health: { type: 'object', required: ['status'], properties: { status: { const: 'ok' }, time: timestamp } },
      Readiness: {
        type: 'object',
        required: ['ready', 'checks'],
        properties: { ready: { type: 'boolean' }, checks: { type: 'object', additionalProperties: { type: 'string' } } },
      },
      ValidationSuccess: {
        type: 'object',
        required: ['valid', 'format', 'apiCount', 'routeCount'],
        properties: {
          valid: { const: true },
          format: { enum: ['yaml', 'json'] },
          apiCount: { type: 'integer' },
          routeCount: { type: 'integer' },
        },
      },
      ValidationFailure: {
        type: 'object',
        required: ['valid', 'problems', 'error'],
        properties: {
          valid: { const: false },
          problems: { type: 'array', items: ref('Problem') },
          error: { type: 'object' },
        },
      },
      RevisionSummary: {
        type: 'object',
        required: ['number', 'createdAt', 'sha256', 'format', 'sizeBytes', 'comment', 'createdBy'],
        properties: {
          number: { type: 'integer', minimum: 1 },
          createdAt: timestamp,
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          format: { enum: ['yaml', 'json'] },
          sizeBytes: { type: 'integer' },
          comment: nullableString,
          createdBy: nullableString,
        },
      },
      Revision: {
        allOf: [ref('RevisionSummary'), { type: 'object', required: ['source'], properties: { source: { type: 'string' } } }],
      },
      Deployment: {
        type: 'object',
        required: ['id', 'revision', 'deployedAt', 'deployedBy'],
        properties: { id: { type: 'integer' }, revision: { type: 'integer' }, deployedAt: timestamp, deployedBy: nullableString },
      },
      DeployResult: {
        type: 'object',
        required: ['revision', 'deployment', 'unchanged'],
        properties: { revision: ref('RevisionSummary'), deployment: ref('Deployment'), unchanged: { type: 'boolean' } },
      },
      CurrentDeployment: {
        type: 'object',
        required: ['deployment', 'revision', 'installed'],
        properties: {
          deployment: ref('Deployment'),
          revision: ref('RevisionSummary'),
          installed: {
            description: 'The snapshot this node serves (it may lag the deployment for a poll interval).',
            oneOf: [
              { type: 'null' },
              {
                type: 'object',
                required: ['revision', 'apiCount', 'routeCount'],
                properties: { revision: { type: 'integer' }, apiCount: { type: 'integer' }, routeCount: { type: 'integer' } },
              },
            ],
          },
        },
      },
      AdminToken: {
        type: 'object',
        required: ['id', 'name', 'role', 'hint', 'createdAt', 'revokedAt', 'lastUsedAt'],
        properties: {
          id: { type: 'string' },
          name: { type: 'string' },
          role: { enum: [...ADMIN_ROLES] },
          hint: { type: 'string', description: 'The first characters of the value, to recognise it.' },
          createdAt: timestamp,
          revokedAt: { type: ['string', 'null'], format: 'date-time' },
          lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
    },
  },
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
