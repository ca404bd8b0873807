// OpenAPI paths of the audit-trail routes (routes/audit.ts), spread into openapi.ts.
const ROLE = 'x-portcullis-role';
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });
const secured = { security: [{ bearerAuth: [] }] };
const e = { 400: error('Malformed request.'), 401: error('Missing, unknown or revoked token.'), 403: error('The token lacks the role.'), 404: error('The audit trail is not enabled.') };
const q = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
const op = (operationId: string, summary: string, role: string, extra: object, responses: object) => ({
  operationId, summary, ...secured, [ROLE]: role, ...extra, responses,
});
const AuditEvent = {
  type: 'object',
  description: 'A CloudTrail-shaped event (docs/audit.md); requestParameters and responseElements have secrets redacted.',
  properties: {
    eventVersion: { type: 'string' },
    eventTime: { type: 'string', format: 'date-time' },
    eventSource: { type: 'string' },
    eventName: { type: 'string' },
    eventType: { type: 'string' },
    userIdentity: { type: 'object' },
    sourceIPAddress: { type: ['string', 'null'] },
    userAgent: { type: ['string', 'null'] },
    requestParameters: {},
    responseElements: {},
    errorCode: { type: 'string' },
    errorMessage: { type: 'string' },
    requestID: { type: 'string' },
    eventID: { type: 'string' },
    readOnly: { type: 'boolean' },
    managementEvent: { type: 'boolean' },
    sequenceNumber: { type: 'integer' },
    previousHash: { type: 'string', description: 'SHA-256 (hex) of the previous event as stored.' },
    eventHash: { type: 'string', description: 'SHA-256 (hex) of this event as stored.' },
  },
};

export const AUDIT_OPENAPI_PATHS = {
  '/v1/audit/events': {
    get: op('lookupAuditEvents', 'Lists audit events, oldest first (CloudTrail LookupEvents); format=jsonl exports JSON Lines.', 'admin', {
      parameters: [
        q('since', 'Events at or after this time.', { type: 'string', format: 'date-time' }),
        q('until', 'Events at or before this time.', { type: 'string', format: 'date-time' }),
        q('event', 'Only this eventName.'),
        q('actor', 'Only events by this admin token id.'),
        q('after', 'Only events after this sequence number (paging).', { type: 'integer', minimum: 0 }),
        q('limit', 'At most this many events.', { type: 'integer', minimum: 1, maximum: 10000, default: 1000 }),
        q('format', 'json (default) or jsonl.', { type: 'string', enum: ['json', 'jsonl'] }),
      ],
    }, {
      200: {
        description: 'Events.',
        content: {
          ...json({ type: 'object', properties: { events: { type: 'array', items: AuditEvent }, nextAfter: { type: ['integer', 'null'] } } }),
          'application/x-ndjson': { schema: { type: 'string' } },
        },
      },
      400: e[400], 401: e[401], 403: e[403], 404: e[404],
    }),
  },
  '/v1/audit/verify': {
    get: op('verifyAuditTrail', "Checks the hash chain and the signed digests with this node's public key.", 'admin', {
      parameters: [q('from', 'First sequence number.', { type: 'integer', minimum: 1 }), q('to', 'Last sequence number.', { type: 'integer', minimum: 1 })],
    }, {
      200: {
        description: 'The report: ok, counts and each problem (modified, inserted, deleted, truncated, digest-*).',
        content: json({ type: 'object', properties: { ok: { type: 'boolean' }, problems: { type: 'array', items: { type: 'object' } } } }),
      },
      400: e[400], 401: e[401], 403: e[403], 404: e[404],
    }),
  },
  '/v1/audit/public-key': {
    get: op('getAuditPublicKey', 'The Ed25519 public key that signs audit digests (PEM) and its SHA-256 fingerprint.', 'read-only', {}, {
      200: { description: 'The key.', content: json({ type: 'object', properties: { fingerprint: { type: 'string' }, algorithm: { type: 'string' }, publicKeyPem: { type: 'string' } } }) },
      401: e[401], 403: e[403], 404: e[404],
    }),
  },
  '/v1/audit/digests': {
    post: op('createAuditDigest', 'Seals the events since the last digest now (the timer and shutdown do it too).', 'admin', {}, {
      200: { description: 'Nothing new to seal.', content: json({ type: 'object', properties: { digest: { type: 'null' } } }) },
      201: { description: 'The digest written.', content: json({ type: 'object', properties: { digest: { type: 'object' } } }) },
      401: e[401], 403: e[403], 404: e[404],
    }),
  },
};
