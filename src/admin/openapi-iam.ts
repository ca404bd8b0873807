// OpenAPI paths of the IAM routes (routes/iam.ts), spread into openapi.ts.
const ROLE = 'x-portcullis-role';
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });
const secured = { security: [{ bearerAuth: [] }] };
const e = {
  400: error('Malformed request, or a policy with problems (`problems` lists each with its JSON path).'),
  401: error('Missing, unknown or revoked token.'),
  403: error('The token lacks the role.'),
  404: error('No such policy, principal or access key (or IAM is not enabled).'),
  409: error('Conflict: the name is taken, or the policy is still attached.'),
};
const nullable = { type: ['string', 'null'] };
const tagMap = { type: 'object', additionalProperties: { type: 'string' } };
const PolicyDocument = { type: ['object', 'string'], description: 'An IAM policy document (docs/authorization.md), as JSON or its JSON text.' };
const Policy = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9+=,.@_-]{1,128}$' },
    description: { type: 'string' },
    document: { type: 'string', description: 'The document as compact JSON text.' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};
const Principal = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'AIDA... (users) or AROA... (roles): aws:userid.' },
    type: { type: 'string', enum: ['user', 'role'] },
    accountId: { type: 'string', pattern: '^\\d{12}$' },
    name: { type: 'string' },
    path: { type: 'string', description: '"/" or "/a/b/".' },
    arn: { type: 'string' },
    tags: tagMap,
    policies: { type: 'array', items: { type: 'string' }, description: 'Attached identity policies by name.' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};
const AccessKey = {
  type: 'object',
  description: 'An access key as listed: never the secret.',
  properties: {
    accessKeyId: { type: 'string' },
    principalId: { type: 'string' },
    status: { type: 'string', enum: ['active', 'inactive'] },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: nullable,
    expiresAt: nullable,
  },
};
const Problem = { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' }, policy: { type: 'string' } } };
const principal = { name: 'principal', in: 'path', required: true, schema: { type: 'string' }, description: 'The principal id or its ARN (URL-encoded).' };
const name = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const op = (operationId: string, summary: string, role: string, extra: object, responses: object) => ({
  operationId, summary, ...secured, [ROLE]: role, ...extra, responses,
});
const body = (schema: object, isRequired = true) => ({ requestBody: { required: isRequired, content: json(schema) } });
const ok = (description: string, schema: object) => ({ description, content: json(schema) });

export const IAM_OPENAPI_PATHS = {
  '/v1/iam/policies': {
    get: op('listPolicies', 'Lists identity policies, by name.', 'read-only', {}, {
      200: ok('Policies.', { type: 'object', properties: { policies: { type: 'array', items: Policy } } }), 401: e[401], 403: e[403], 404: e[404],
    }),
    post: op('putPolicy', 'Creates or replaces an identity policy; it is validated first (every problem with its JSON path) and every node applies it within a second.', 'operator',
      body({ type: 'object', required: ['name', 'document'], properties: { name: { type: 'string' }, description: { type: 'string' }, document: PolicyDocument } }),
      {
        200: ok('Replaced.', { type: 'object', properties: { policy: Policy, created: { type: 'boolean' } } }),
        201: ok('Created.', { type: 'object', properties: { policy: Policy, created: { type: 'boolean' } } }),
        400: e[400], 401: e[401], 403: e[403], 404: e[404],
      }),
  },
  '/v1/iam/policies/{name}': {
    get: op('getPolicy', 'One identity policy.', 'read-only', { parameters: [name] }, {
      200: ok('The policy.', { type: 'object', properties: { policy: Policy } }), 401: e[401], 403: e[403], 404: e[404],
    }),
    delete: op('deletePolicy', 'Deletes a policy that no principal has attached.', 'operator', { parameters: [name] }, {
      200: { description: 'Deleted.' }, 401: e[401], 403: e[403], 404: e[404], 409: e[409],
    }),
  },
  '/v1/iam/validate-policy': {
    post: op('validatePolicy', 'Validates a policy document (identity or resource) with the messages deploy gives; stores nothing.', 'read-only',
      body({
        type: 'object', required: ['document'],
        properties: {
          document: PolicyDocument, kind: { type: 'string', enum: ['identity', 'resource'], default: 'identity' },
          region: { type: 'string' }, accountId: { type: 'string' }, apiId: { type: 'string', description: 'For the execute-api:/ shorthand.' },
        },
      }),
      {
        200: ok('The verdict.', { type: 'object', properties: { valid: { type: 'boolean' }, statementCount: { type: 'integer' }, problems: { type: 'array', items: Problem } } }),
        400: e[400], 401: e[401], 403: e[403],
      }),
  },
  '/v1/iam/simulate': {
    post: op('simulateCustomPolicy', "Like AWS's policy simulator: the decision for one request, the deciding statement, and why every other statement did not match.", 'read-only',
      body({
        type: 'object', required: ['method', 'path'],
        properties: {
          method: { type: 'string' }, path: { type: 'string', description: 'The real request path, such as /pets/42.' }, stage: { type: 'string', default: 'prod' },
          api: { type: 'string', description: "A deployed API's name: its region, account, id and resource policy are used." },
          region: { type: 'string' }, accountId: { type: 'string' }, apiId: { type: 'string' },
          principal: { type: 'string', description: "A stored principal's id or ARN (its tags and attached policies are used), or any IAM/STS ARN." },
          tags: tagMap,
          identityPolicies: { type: 'array', items: PolicyDocument },
          policyNames: { type: 'array', items: { type: 'string' }, description: 'Stored identity policies to add.' },
          resourcePolicy: PolicyDocument,
          context: { type: 'object', additionalProperties: { type: ['string', 'array'] }, description: 'Condition keys, such as aws:SourceIp.' },
          authType: { type: 'string', enum: ['iam', 'lambda', 'cognito', 'none'] },
          identityDecision: { type: 'string', enum: ['Allow', 'ExplicitDeny', 'ImplicitDeny'], description: "For lambda/cognito: the authorizer's decision." },
        },
      }),
      {
        200: ok('The simulation.', {
          type: 'object',
          properties: {
            decision: { type: 'string', enum: ['Allow', 'ExplicitDeny', 'ImplicitDeny'] },
            methodArn: { type: 'string' },
            sameAccount: { type: 'boolean' },
            denial: { type: ['object', 'null'], properties: { message: { type: 'string' }, detail: { type: 'string' } } },
            statements: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  policy: { type: 'string' }, kind: { type: 'string' }, index: { type: 'integer' }, sid: { type: 'string' }, effect: { type: 'string' },
                  matched: { type: 'boolean' }, deciding: { type: 'boolean' }, reasons: { type: 'array', items: { type: 'string' } },
                },
              },
            },
          },
        }),
        400: e[400], 401: e[401], 403: e[403], 404: e[404],
      }),
  },
  '/v1/iam/principals': {
    get: op('listPrincipals', 'Lists users and roles.', 'read-only', {}, {
      200: ok('Principals.', { type: 'object', properties: { principals: { type: 'array', items: Principal } } }), 401: e[401], 403: e[403], 404: e[404],
    }),
    post: op('createPrincipal', 'Creates a user or role (account id defaults to settings.accountId).', 'operator',
      body({
        type: 'object', required: ['type', 'name'],
        properties: {
          type: { type: 'string', enum: ['user', 'role'] }, name: { type: 'string' }, accountId: { type: 'string' }, path: { type: 'string' },
          tags: tagMap, policies: { type: 'array', items: { type: 'string' } },
        },
      }),
      { 201: ok('Created.', { type: 'object', properties: { principal: Principal } }), 400: e[400], 401: e[401], 403: e[403], 404: e[404], 409: e[409] }),
  },
  '/v1/iam/principals/{principal}': {
    get: op('getPrincipal', 'One principal.', 'read-only', { parameters: [principal] }, {
      200: ok('The principal.', { type: 'object', properties: { principal: Principal } }), 401: e[401], 403: e[403], 404: e[404],
    }),
    post: op('updatePrincipal', 'Changes path, tags or attached policies (each replaces the whole value).', 'operator', {
      parameters: [principal],
      ...body({ type: 'object', properties: { path: { type: 'string' }, tags: tagMap, policies: { type: 'array', items: { type: 'string' } } } }),
    }, { 200: ok('Updated.', { type: 'object', properties: { principal: Principal } }), 400: e[400], 401: e[401], 403: e[403], 404: e[404] }),
    delete: op('deletePrincipal', 'Deletes a principal and its access keys.', 'operator', { parameters: [principal] }, {
      200: { description: 'Deleted.' }, 401: e[401], 403: e[403], 404: e[404],
    }),
  },
  '/v1/iam/principals/{principal}/access-keys': {
    post: op('createAccessKey', 'Creates an access key; the secret is answered once (stored sealed with the master key, redacted in the audit trail).', 'operator', { parameters: [principal] }, {
      201: ok('Created.', { type: 'object', properties: { accessKey: { ...AccessKey, properties: { ...AccessKey.properties, secretAccessKey: { type: 'string', description: 'Shown once.' } } } } }),
      401: e[401], 403: e[403], 404: e[404],
    }),
  },
  '/v1/iam/principals/{principal}/session-credentials': {
    post: op('getSessionToken', 'STS-like temporary credentials (ASIA... key id, secret, session token, expiration) for the principal; shown once.', 'operator', {
      parameters: [principal],
      ...body({ type: 'object', properties: { durationSeconds: { type: 'integer', minimum: 900, maximum: 43200, default: 3600 } } }, false),
    }, {
      201: ok('Issued.', {
        type: 'object',
        properties: {
          credentials: {
            type: 'object',
            properties: {
              accessKeyId: { type: 'string' }, secretAccessKey: { type: 'string' }, sessionToken: { type: 'string' },
              expiration: { type: 'string', format: 'date-time' }, principalId: { type: 'string' },
            },
          },
        },
      }),
      400: e[400], 401: e[401], 403: e[403], 404: e[404],
    }),
  },
  '/v1/iam/access-keys': {
    get: op('listAccessKeys', 'Lists access keys (never secrets), optionally of one principal.', 'read-only', {
      parameters: [{ name: 'principal', in: 'query', required: false, schema: { type: 'string' } }],
    }, { 200: ok('Keys.', { type: 'object', properties: { accessKeys: { type: 'array', items: AccessKey } } }), 401: e[401], 403: e[403], 404: e[404] }),
  },
  '/v1/iam/access-keys/{id}': {
    post: op('updateAccessKey', 'Activates or deactivates a key (every node within a second).', 'operator', {
      parameters: [id], ...body({ type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['active', 'inactive'] } } }),
    }, { 200: ok('Updated.', { type: 'object', properties: { accessKey: AccessKey } }), 400: e[400], 401: e[401], 403: e[403], 404: e[404] }),
    delete: op('deleteAccessKey', 'Deletes a key.', 'operator', { parameters: [id] }, { 200: { description: 'Deleted.' }, 401: e[401], 403: e[403], 404: e[404] }),
  },
  '/v1/iam/reseal-secrets': {
    post: op('resealSecrets', 'After a master-key rotation: re-seals every access-key secret sealed under a previous key (docs/authentication.md).', 'admin', {}, {
      200: ok('How many were re-sealed.', { type: 'object', properties: { resealed: { type: 'integer' } } }), 401: e[401], 403: e[403], 404: e[404],
    }),
  },
};
