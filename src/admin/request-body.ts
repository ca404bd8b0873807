// Reading admin request bodies with a hard size limit, and the strict JSON and Content-Type rules the
// admin API applies, each failure answered with a catalogued error instead of a crash or a silent guess.
import type { IncomingMessage } from 'node:http';
import type { DefinitionFormat } from '../store/ports.ts';
import { AdminHttpError } from './admin-errors.ts';

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Refuses by the declared length before reading anything, then counts what actually arrives. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) settle(() => reject(tooLarge(limit)));
      else chunks.push(chunk);
    });
    req.on('end', () => settle(() => resolve(Buffer.concat(chunks, size))));
    req.on('error', (err) => settle(() => reject(err)));
    req.on('close', () => settle(() => reject(new Error('the client closed the connection before sending the whole body'))));
  });
}

function tooLarge(limit: number): AdminHttpError {
  const size = limit >= 1024 * 1024 ? `${limit / (1024 * 1024)} MB` : `${limit / 1024} KB`;
  return new AdminHttpError('PAYLOAD_TOO_LARGE', `the request body is larger than this endpoint's limit of ${size}`);
}

interface MediaType {
  readonly type: string;
  readonly charset: string | undefined;
}

function mediaType(req: IncomingMessage): MediaType | undefined {
  const header = req.headers['content-type'];
  if (!header) return undefined;
  const [type = '', ...params] = header.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const [key, value] = param.split('=');
    if (key?.trim().toLowerCase() === 'charset') charset = value?.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { type: type.trim().toLowerCase(), charset };
}

function checkCharset(media: MediaType): void {
  if (media.charset !== undefined && media.charset !== 'utf-8' && media.charset !== 'utf8') {
    throw new AdminHttpError('UNSUPPORTED_MEDIA_TYPE', `only UTF-8 bodies are accepted, not charset=${media.charset}`);
  }
}

const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);
const UNTYPED = new Set(['text/plain', 'application/octet-stream']);

/** The definition format a Content-Type announces; undefined means "detect it from the text". */
export function definitionFormat(req: IncomingMessage): DefinitionFormat | undefined {
  const media = mediaType(req);
  if (!media) return undefined;
  checkCharset(media);
  if (media.type === 'application/json' || media.type.endsWith('+json')) return 'json';
  if (YAML_TYPES.has(media.type)) return 'yaml';
  if (UNTYPED.has(media.type)) return undefined;
  throw new AdminHttpError(
    'UNSUPPORTED_MEDIA_TYPE',
    `send the definition as application/yaml, application/json or text/plain, not ${media.type}`,
  );
}

/** A JSON object body: strict RFC 8259 JSON (JSON.parse), UTF-8, an object at the top. */
export function parseJsonObject(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const media = mediaType(req);
  if (media) {
    checkCharset(media);
    if (media.type !== 'application/json' && !media.type.endsWith('+json')) {
      throw new AdminHttpError('UNSUPPORTED_MEDIA_TYPE', `send a JSON body with Content-Type: application/json, not ${media.type}`);
    }
  }
  if (body.length === 0) throw new AdminHttpError('BAD_REQUEST', 'the request body is empty; expected a JSON object');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new AdminHttpError('BAD_REQUEST', 'the request body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AdminHttpError('BAD_REQUEST', `the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AdminHttpError('BAD_REQUEST', 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Rejects fields the endpoint does not know, so a misspelt field is an error rather than ignored. */
export function checkFields(body: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!known.includes(key)) {
      throw new AdminHttpError('BAD_REQUEST', `unknown field ${JSON.stringify(key)}; this endpoint accepts ${known.join(', ')}`);
    }
  }
}
