// execute-api ARNs: building the method (invocation) ARN a request is authorised against, expanding the
// resource-policy shorthand `execute-api:/stage/METHOD/path`, and splitting ARNs into their six fields.

export interface InvocationArnParts {
  readonly region: string;
  readonly accountId: string;
  readonly apiId: string;
  readonly stage: string;
  /** HTTP verb as routed (`GET`, `POST`...); upper-cased. */
  readonly method: string;
  /** The real request path (`/pets/42`, or `/` for the root resource), not the route template. */
  readonly path: string;
  /** Defaults to `aws`. */
  readonly partition?: string;
}

/** AWS answers 414 when a method ARN would exceed this many bytes (long path parameters). */
export const MAX_METHOD_ARN_BYTES = 1600;

/** `arn:aws:execute-api:{region}:{accountId}:{apiId}/{stage}/{METHOD}/{path}`; the root is `.../GET/`. */
export function buildInvocationArn(p: InvocationArnParts): string {
  const path = p.path.startsWith('/') ? p.path.slice(1) : p.path;
  return `arn:${p.partition ?? 'aws'}:execute-api:${p.region}:${p.accountId}:${p.apiId}/${p.stage}/${p.method.toUpperCase()}/${path}`;
}

export function isMethodArnTooLong(arn: string): boolean {
  return Buffer.byteLength(arn, 'utf8') > MAX_METHOD_ARN_BYTES;
}

const SHORTHAND_PREFIX = 'execute-api:/';

export function isExecuteApiShorthand(resource: string): boolean {
  return resource.startsWith(SHORTHAND_PREFIX);
}

/**
 * Expands `execute-api:/prod/GET/pets/*` to `arn:aws:execute-api:{region}:{account}:{apiId}/prod/GET/pets/*`
 * and `execute-api:/*` to `.../{apiId}/*`, as API Gateway does when a resource policy is saved.
 */
export function expandExecuteApiShorthand(
  resource: string,
  api: { readonly region: string; readonly accountId: string; readonly apiId: string; readonly partition?: string },
): string {
  if (!isExecuteApiShorthand(resource)) return resource;
  return `arn:${api.partition ?? 'aws'}:execute-api:${api.region}:${api.accountId}:${api.apiId}/${resource.slice(SHORTHAND_PREFIX.length)}`;
}

/**
 * Splits at the first five colons: [arn, partition, service, region, account, resource]. The resource field
 * keeps any further colons. Returns null for something that is not a six-field ARN.
 */
export function splitArn(arn: string): string[] | null {
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < 5; i++) {
    const at = arn.indexOf(':', from);
    if (at === -1) return null;
    out.push(arn.slice(from, at));
    from = at + 1;
  }
  out.push(arn.slice(from));
  return out[0] === 'arn' ? out : null;
}

/** The account id of a principal ARN (`arn:aws:iam::123456789012:user/x` → `123456789012`). */
export function accountOfArn(arn: string): string | undefined {
  const f = splitArn(arn);
  return f && /^\d{12}$/.test(f[4]!) ? f[4] : undefined;
}
