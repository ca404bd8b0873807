// OpenAPI paths of the monitoring routes (routes/alarms.ts), spread into openapi.ts.
const ROLE = 'x-portcullis-role';
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });
const secured = { security: [{ bearerAuth: [] }] };
const e = { 401: error('Missing, unknown or revoked token.'), 403: error('The token lacks the role.'), 404: error('Monitoring is not enabled, or the address is not blocked.') };
const State = { type: 'string', enum: ['OK', 'ALARM', 'INSUFFICIENT_DATA'] };
const Alarm = {
  type: 'object',
  description: 'An alarm of the definition (monitoring.alarms, or a built-in rule named rule-<name>) and its series (docs/monitoring.md).',
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    metric: { type: 'string' },
    per: { type: 'string', enum: ['gateway', 'api', 'apiKey', 'sourceIp'] },
    state: { ...State, description: 'The worst state over the series.' },
    counts: { type: 'object', additionalProperties: { type: 'integer' } },
    series: {
      type: 'array',
      items: { type: 'object', properties: { dimension: { type: 'string' }, state: State, reason: { type: 'string' }, stateChangedAt: { type: 'string', format: 'date-time' } } },
    },
  },
};

export const ALARM_OPENAPI_PATHS = {
  '/v1/alarms': {
    get: {
      operationId: 'describeAlarms', summary: 'Alarm states, with every series not in OK (CloudWatch DescribeAlarms).', ...secured, [ROLE]: 'read-only',
      responses: { 200: { description: 'The alarms.', content: json({ type: 'object', properties: { alarms: { type: 'array', items: Alarm } } }) }, 401: e[401], 403: e[403], 404: e[404] },
    },
    post: {
      operationId: 'putAlarm',
      summary: 'Creates or replaces an alarm next to those of the definition (CloudWatch PutMetricAlarm); same fields as monitoring.alarms[] (docs/monitoring.md).',
      ...secured, [ROLE]: 'operator',
      requestBody: { required: true, content: json({ type: 'object', required: ['name', 'metric'], additionalProperties: true }) },
      responses: {
        200: { description: 'The alarm as stored, defaults filled in.', content: json({ type: 'object', properties: { alarm: { type: 'object' } } }) },
        400: error('Invalid alarm (the message names the field), a name the definition uses, or an unknown webhook.'),
        401: e[401], 403: e[403], 404: e[404],
      },
    },
  },
  '/v1/alarms/{name}': {
    delete: {
      operationId: 'deleteAlarm', summary: 'Deletes an alarm defined through the admin API (CloudWatch DeleteAlarms).', ...secured, [ROLE]: 'operator',
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 200: { description: 'Deleted.', content: json({ type: 'object', properties: { deleted: { type: 'string' } } }) }, 401: e[401], 403: e[403], 404: e[404] },
    },
  },
  '/v1/blocked-sources': {
    get: {
      operationId: 'listBlockedSources', summary: 'Source addresses an alarm blocked (answered 403 WAF_FILTERED), until when.', ...secured, [ROLE]: 'read-only',
      responses: {
        200: {
          description: 'The blocks on this node.',
          content: json({ type: 'object', properties: { blocked: { type: 'array', items: { type: 'object', properties: { sourceIp: { type: 'string' }, until: { type: 'string', format: 'date-time' }, alarm: { type: 'string' } } } } } }),
        },
        401: e[401], 403: e[403], 404: e[404],
      },
    },
  },
  '/v1/blocked-sources/{sourceIp}': {
    delete: {
      operationId: 'deleteBlockedSource', summary: 'Lifts a block before it expires.', ...secured, [ROLE]: 'operator',
      parameters: [{ name: 'sourceIp', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { 200: { description: 'Unblocked.', content: json({ type: 'object', properties: { unblocked: { type: 'string' } } }) }, 401: e[401], 403: e[403], 404: e[404] },
    },
  },
};
