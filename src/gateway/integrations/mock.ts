// The mock integration (AWS MOCK): a static status, headers and body, all prepared once per route; the
// request body is discarded so the connection stays reusable.
import type { MockIntegration } from '../../config/schema.ts';
import { applyGatewayHeaders, type RequestContext } from '../pipeline/context.ts';
import type { IntegrationDone, IntegrationFn } from './types.ts';

/** Headers a mock may not set: Node frames the response (Content-Length is computed here). */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'trailer', 'upgrade']);

export function createMockIntegration(settings: MockIntegration): IntegrationFn {
  const status = settings.statusCode;
  if (status < 200) throw new Error(`mock statusCode ${status}: informational responses cannot be mocked`);
  // RFC 9110 §6.4.1: 204 and 304 have no content (and 304 keeps no Content-Length of its own here).
  const bodyless = status === 204 || status === 304;

  let body: Buffer;
  let contentType: string | undefined;
  if (settings.body === undefined || bodyless) {
    body = Buffer.alloc(0);
  } else if (typeof settings.body === 'string') {
    body = Buffer.from(settings.body, 'utf8');
    contentType = 'text/plain; charset=utf-8';
  } else {
    body = Buffer.from(JSON.stringify(settings.body), 'utf8');
    contentType = 'application/json';
  }

  const headers: Record<string, string> = {};
  let hasType = false;
  for (const [name, value] of Object.entries(settings.headers)) {
    const lower = name.toLowerCase();
    if (FRAMING.has(lower)) continue;
    if (lower === 'content-type') hasType = true;
    headers[name] = value;
  }
  if (!hasType && contentType !== undefined) headers['content-type'] = contentType;
  if (!bodyless) headers['content-length'] = String(body.length);
  Object.freeze(headers);
  const length = body.length;

  return function mock(ctx: RequestContext, done: IntegrationDone): void {
    const { req, res } = ctx;
    // Discard the request body as it arrives (a mock never reads it).
    if (!req.complete) req.resume();
    ctx.integration.status = status;
    ctx.integration.latency = 0;
    applyGatewayHeaders(ctx);
    res.writeHead(status, headers);
    if (ctx.httpMethod === 'HEAD' || length === 0) {
      res.end();
    } else {
      ctx.responseLength = length;
      res.end(body);
    }
    done(ctx, undefined);
  };
}
