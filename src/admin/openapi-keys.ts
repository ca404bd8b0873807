// OpenAPI paths of the API-key, usage-plan and usage routes (routes/keys.ts), spread into openapi.ts.
const ROLE = 'x-portcullis-role';
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });
const secured = { security: [{ bearerAuth: [] }] };
const e = { 400: error('Malformed request.'), 401: error('Missing, unknown or revoked token.'), 403: error('The token lacks the role.'), 404: error('No such key, plan or subscription.'), 409: error('Conflict (value already used; two plans for one API stage).') };
const nullable = { type: ['string', 'null'] };
const ApiKey = {
  type: 'object',
  description: 'An API key as the admin API shows it: never the value, never its hash.',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    customerId: nullable,
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    enabled: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    expiresAt: nullable,
    hint: { type: 'string', description: 'To recognise the key: pck_ and 4 characters of a generated value, the first 4 of an imported one.' },
    rotatedValueValidUntil: nullable,
    plans: { type: 'array', items: { type: 'string' } },
  },
};
const KeyWithValue = json({ type: 'object', properties: { key: ApiKey, value: { type: 'string', description: 'Shown once; not stored.' } } });
const keyFields = {
  name: { type: 'string', maxLength: 1024 },
  description: { type: 'string', maxLength: 1024 },
  customerId: nullable,
  tags: { type: 'object', additionalProperties: { type: 'string' } },
  enabled: { type: 'boolean' },
  expiresAt: nullable,
};
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const plan = { name: 'plan', in: 'path', required: true, schema: { type: 'string' } };
const keyId = { name: 'keyId', in: 'path', required: true, schema: { type: 'string' } };
const Usage = json({
  type: 'object',
  description: 'AWS GetUsage: per key id, one [used, remaining] pair per day (remaining is null when the plan has no quota).',
  properties: {
    usagePlanId: { type: 'string' },
    startDate: { type: 'string' },
    endDate: { type: 'string' },
    position: { type: 'null' },
    values: { type: 'object', additionalProperties: { type: 'array', items: { type: 'array', items: { type: ['integer', 'null'] } } } },
  },
});
const ImportJob = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['running', 'done', 'failed'] },
    progress: { type: 'array', items: { type: 'object', properties: { phase: { type: 'string', enum: ['checking', 'writing'] }, done: { type: 'integer' }, total: { type: 'integer' } } } },
    result: { type: 'object', properties: { created: { type: 'integer' }, updated: { type: 'integer' } } },
    problems: { type: 'array', items: { type: 'object', properties: { row: { type: 'integer' }, message: { type: 'string' } } } },
    error: { type: 'string' },
  },
};

const op = (operationId: string, summary: string, role: string, extra: object, responses: object) => ({
  operationId, summary, ...secured, [ROLE]: role, ...extra, responses,
});

export const KEY_OPENAPI_PATHS = {
  '/v1/api-keys': {
    get: op('listApiKeys', 'Lists API keys (metadata only), ordered by id.', 'read-only', {
      parameters: [
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 10000, default: 1000 } },
        { name: 'after', in: 'query', required: false, schema: { type: 'string' } },
      ],
    }, { 200: { description: 'Keys.', content: json({ type: 'object', properties: { keys: { type: 'array', items: ApiKey }, nextAfter: nullable } }) }, 400: e[400], 401: e[401], 403: e[403] }),
    post: op('createApiKey', 'Creates a key: a generated value (pck_...) or an imported one (20-128 alphanumerics); the value is returned once.', 'operator', {
      requestBody: { required: true, content: json({ type: 'object', required: ['name'], properties: { ...keyFields, plans: { type: 'array', items: { type: 'string' } }, value: { type: 'string' } } }) },
    }, { 201: { description: 'Created.', content: KeyWithValue }, 400: e[400], 401: e[401], 403: e[403], 404: e[404], 409: e[409] }),
  },
  '/v1/api-keys/import': {
    post: op('importApiKeys', "Imports keys in AWS's CSV format (Name, Key, Description, Enabled, UsagePlanIds); all or nothing, problems reported by row. With async=true: 202 and a job to poll for progress.", 'operator', {
      parameters: [{ name: 'async', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'], default: 'false' } }],
      requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } } } },
    }, {
      200: { description: 'Imported.', content: json({ type: 'object', properties: { created: { type: 'integer' }, updated: { type: 'integer' } } }) },
      202: { description: 'Import started (async=true).', content: json({ type: 'object', properties: { job: ImportJob } }) },
      400: error('Problems by row; nothing imported.'), 401: e[401], 403: e[403], 413: error('Body too large.'), 415: error('Not text/csv.'),
    }),
  },
  '/v1/api-keys/import-jobs/{jobId}': {
    get: op('getApiKeyImportJob', 'Progress and outcome of an asynchronous import (kept in the memory of the node that runs it).', 'operator', {
      parameters: [{ name: 'jobId', in: 'path', required: true, schema: { type: 'string' } }],
    }, { 200: { description: 'The job.', content: json({ type: 'object', properties: { job: ImportJob } }) }, 401: e[401], 403: e[403], 404: e[404] }),
  },
  '/v1/api-keys/export': {
    get: op('exportApiKeys', 'Exports key metadata as CSV (never values).', 'read-only', {}, {
      200: { description: 'CSV.', content: { 'text/csv': { schema: { type: 'string' } } } }, 401: e[401], 403: e[403],
    }),
  },
  '/v1/api-keys/{id}': {
    get: op('getApiKey', 'One key with its plans.', 'read-only', { parameters: [id] }, { 200: { description: 'The key.', content: json({ type: 'object', properties: { key: ApiKey } }) }, 401: e[401], 403: e[403], 404: e[404] }),
    post: op('updateApiKey', 'Changes name, description, customerId, tags, enabled (enable/disable) or expiresAt.', 'operator', {
      parameters: [id], requestBody: { required: true, content: json({ type: 'object', properties: keyFields }) },
    }, { 200: { description: 'Updated.', content: json({ type: 'object', properties: { key: ApiKey } }) }, 400: e[400], 401: e[401], 403: e[403], 404: e[404] }),
    delete: op('deleteApiKey', 'Deletes a key and its subscriptions (usage records stay).', 'operator', { parameters: [id] }, { 200: { description: 'Deleted.' }, 401: e[401], 403: e[403], 404: e[404] }),
  },
  '/v1/api-keys/{id}/rotate': {
    post: op('rotateApiKey', 'Issues a new value; the old one keeps working for graceSeconds (default 0).', 'operator', {
      parameters: [id], requestBody: { required: false, content: json({ type: 'object', properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: 7776000 } } }) },
    }, { 200: { description: 'Rotated; the new value is returned once.', content: KeyWithValue }, 400: e[400], 401: e[401], 403: e[403], 404: e[404] }),
  },
  '/v1/usage-plans': {
    get: op('listUsagePlans', 'The usage plans of the deployed definition.', 'read-only', {}, { 200: { description: 'Plans.' }, 401: e[401], 403: e[403] }),
  },
  '/v1/usage-plans/{plan}/keys': {
    get: op('listPlanKeys', 'Subscriptions of a plan.', 'read-only', { parameters: [plan] }, { 200: { description: 'Subscriptions.' }, 401: e[401], 403: e[403] }),
    post: op('subscribeKey', 'Subscribes a key to a plan (a key may be in one plan per API stage).', 'operator', {
      parameters: [plan], requestBody: { required: true, content: json({ type: 'object', required: ['keyId'], properties: { keyId: { type: 'string' } } }) },
    }, { 201: { description: 'Subscribed.' }, 400: e[400], 401: e[401], 403: e[403], 404: e[404], 409: e[409] }),
  },
  '/v1/usage-plans/{plan}/keys/{keyId}': {
    delete: op('unsubscribeKey', 'Removes a subscription.', 'operator', { parameters: [plan, keyId] }, { 200: { description: 'Unsubscribed.' }, 401: e[401], 403: e[403], 404: e[404] }),
  },
  '/v1/usage-plans/{plan}/usage': {
    get: op('getUsage', 'AWS GetUsage: daily [used, remaining] per key.', 'read-only', {
      parameters: [
        plan,
        { name: 'startDate', in: 'query', required: true, schema: { type: 'string', format: 'date' } },
        { name: 'endDate', in: 'query', required: true, schema: { type: 'string', format: 'date' } },
        { name: 'keyId', in: 'query', required: false, schema: { type: 'string' } },
      ],
    }, { 200: { description: 'Usage.', content: Usage }, 400: e[400], 401: e[401], 403: e[403], 404: e[404] }),
  },
  '/v1/usage-plans/{plan}/keys/{keyId}/usage': {
    post: op('updateUsage', 'AWS UpdateUsage: sets the remaining quota of a key in the current period.', 'operator', {
      parameters: [plan, keyId], requestBody: { required: true, content: json({ type: 'object', required: ['remaining'], properties: { remaining: { type: 'integer', minimum: 0 } } }) },
    }, { 200: { description: 'Usage after the change.', content: Usage }, 400: e[400], 401: e[401], 403: e[403], 404: e[404] }),
  },
};
