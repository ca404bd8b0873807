// The admin API's error catalogue: every `error.code` it can answer, with its status and meaning. The
// OpenAPI document's Error schema is built from it, and a test checks the two list the same codes.

export const ADMIN_ERRORS = {
  BAD_REQUEST: { status: 400, description: 'The request is malformed: bad JSON, a bad query parameter or field.' },
  INVALID_DEFINITION: { status: 400, description: 'The definition has problems; `problems` lists each with its path and line.' },
  UNAUTHENTICATED: { status: 401, description: 'No bearer token, or the token is unknown or revoked.' },
  FORBIDDEN: { status: 403, description: "The token's role cannot call this endpoint; `requiredRole` names the role needed." },
  NOT_FOUND: { status: 404, description: 'The revision, deployment or token does not exist.' },
  ROUTE_NOT_FOUND: { status: 404, description: 'The admin API has no such path.' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'The path exists but not with this method; `Allow` lists the methods.' },
  CONFLICT: { status: 409, description: 'The change would leave the gateway unmanageable (revoking the last admin token).' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body exceeds the limit (20 MB for definitions, 64 KB otherwise).' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The Content-Type is not one this endpoint reads.' },
  INTERNAL: { status: 500, description: 'An unexpected error; the server log has the details under the request id.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type AdminErrorCode = keyof typeof ADMIN_ERRORS;

/** Thrown inside request handling to answer with a catalogued error; never escapes the admin server. */
export class AdminHttpError extends Error {
  readonly code: AdminErrorCode;
  readonly status: number;
  readonly extra: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: AdminErrorCode,
    message: string,
    options: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'AdminHttpError';
    this.code = code;
    this.status = ADMIN_ERRORS[code].status;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}
