// Expected denials are returned values, not exceptions (a throw means a bug or a broken dependency).
import type { ResponseType } from './gateway-responses.ts';

export interface Denial {
  readonly type: ResponseType;
  /** Client-visible message; undefined = the type's default message. null renders as JSON null. */
  readonly message?: string | null;
  /** AWS writes IAM/resource-policy denials as {"Message": ...}; everything else as {"message": ...}. */
  readonly messageKey?: 'message' | 'Message';
  /** Private detail for logs and execution logs; never sent to the client. */
  readonly detail?: string;
  /** Extra response headers (Retry-After, WWW-Authenticate, RateLimit...). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Overrides the response status (rare: a custom authorizer's 401 vs 403 is a type, not this). */
  readonly status?: number;
  /** $context.error.validationErrorString */
  readonly validationErrorString?: string;
}

export function deny(type: ResponseType, fields?: Omit<Denial, 'type'>): Denial {
  return fields ? { type, ...fields } : { type };
}
