// Calling a custom authorizer over HTTP and reading its answer with AWS Lambda authorizer rules
// (reference section 8.2/8.3): a policy result, the HTTP-API simple form, "Unauthorized", or malformed.
import { parsePolicy, type CompiledPolicy } from '../../../security/iam/index.ts';

export type ContextValue = string | number | boolean;

export type AuthorizerAnswer =
  | {
      readonly kind: 'policy';
      readonly principalId: string;
      readonly policy: CompiledPolicy;
      readonly context: Readonly<Record<string, ContextValue>>;
      readonly usageIdentifierKey?: string;
      /** No conditions and no policy variables: the decision depends on the method ARN alone (and may be memoised). */
      readonly contextFree: boolean;
    }
  | { readonly kind: 'simple'; readonly authorized: boolean; readonly context: Readonly<Record<string, ContextValue>> }
  /** The authorizer said "Unauthorized": 401. */
  | { readonly kind: 'unauthorized' }
  /** Anything else (error, timeout, malformed): 500 AUTHORIZER_CONFIGURATION_ERROR, never cached. */
  | { readonly kind: 'error'; readonly detail: string };

const MAX_ANSWER_BYTES = 256 * 1024;

/** POSTs the event as JSON; the answer is the JSON body of a 200, or a 401 for "Unauthorized". */
export async function invokeAuthorizer(url: string, event: unknown, timeoutMs: number, simple: boolean): Promise<AuthorizerAnswer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    return { kind: 'error', detail: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `unreachable: ${e.message}` };
  }
  let text: string;
  try {
    text = await readLimited(res);
  } catch (err) {
    return { kind: 'error', detail: (err as Error).message };
  }
  if (res.status === 401) return { kind: 'unauthorized' };
  if (res.status !== 200) return { kind: 'error', detail: `authorizer answered HTTP ${res.status}` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'error', detail: 'authorizer answer is not JSON' };
  }
  return readAnswer(body, simple);
}

async function readLimited(res: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_ANSWER_BYTES) throw new Error(`authorizer answer exceeds ${MAX_ANSWER_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a parsed answer; exported for unit tests. */
export function readAnswer(body: unknown, simple: boolean): AuthorizerAnswer {
  // A Lambda authorizer signals 401 by failing with exactly "Unauthorized"; over HTTP that is the JSON
  // string or Lambda's error shape {"errorMessage":"Unauthorized"}.
  if (body === 'Unauthorized' || (isObject(body) && body.errorMessage === 'Unauthorized')) return { kind: 'unauthorized' };
  if (!isObject(body)) return { kind: 'error', detail: 'authorizer answer is not a JSON object' };
  const context = readContext(body.context);
  if (typeof context === 'string') return { kind: 'error', detail: context };
  if (simple) {
    if (typeof body.isAuthorized !== 'boolean') return { kind: 'error', detail: 'simple response without a boolean isAuthorized' };
    return { kind: 'simple', authorized: body.isAuthorized, context };
  }
  if (typeof body.principalId !== 'string' || body.principalId === '') return { kind: 'error', detail: 'answer has no principalId' };
  if (!isObject(body.policyDocument)) return { kind: 'error', detail: 'answer has no policyDocument' };
  const parsed = parsePolicy(body.policyDocument, { kind: 'identity' });
  if (!parsed.ok) {
    return { kind: 'error', detail: `policyDocument: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}` };
  }
  if (body.usageIdentifierKey !== undefined && typeof body.usageIdentifierKey !== 'string') {
    return { kind: 'error', detail: 'usageIdentifierKey is not a string' };
  }
  const statements = [...parsed.policy.allows, ...parsed.policy.denies];
  return {
    kind: 'policy',
    principalId: body.principalId,
    policy: parsed.policy,
    contextFree: statements.every((st) => st.conditions.length === 0) && !JSON.stringify(body.policyDocument).includes('${'),
    context,
    ...(body.usageIdentifierKey !== undefined ? { usageIdentifierKey: body.usageIdentifierKey } : {}),
  };
}

/** AWS: context values are strings, numbers or booleans only; an object or array makes the answer malformed. */
function readContext(v: unknown): Readonly<Record<string, ContextValue>> | string {
  if (v === undefined || v === null) return Object.freeze({});
  if (!isObject(v)) return 'context is not an object';
  const out: Record<string, ContextValue> = Object.create(null);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') return `context.${k} is not a string, number or boolean`;
    out[k] = x;
  }
  return Object.freeze(out);
}
