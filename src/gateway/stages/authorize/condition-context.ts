// The request's IAM condition context: a lazy getter that computes each key only when a policy asks for it
// (aws:SourceIp, aws:SecureTransport, aws:CurrentTime, aws:Principal*, ...), plus keys other stages offer.
import type { ContextValue } from '../../../security/iam/index.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import { callerIdentityOf, CONDITION_KEYS_EXTENSION } from '../../pipeline/caller-identity.ts';
import { normalize, type TrustedProxies } from '../../trusted-proxies.ts';

/** Beyond AWS: the id of the API key sent with the request (x-api-key, or the authorizer's usageIdentifierKey). */
export const API_KEY_ID_CONDITION_KEY = 'portcullis:ApiKeyId';

export interface ConditionContextOptions {
  /** settings.trustedProxies compiled: aws:SourceIp / aws:SecureTransport believe X-Forwarded-* only from them. */
  readonly trustedProxies: TrustedProxies;
  /** Resolves the request's API key to its id (for portcullis:ApiKeyId before the api-key phase ran). */
  readonly apiKeyId?: (ctx: RequestContext) => string | undefined;
}

export type ConditionGetter = (lowerCaseKey: string) => ContextValue | undefined;

const PRINCIPAL_TAG = 'aws:principaltag/';
const API_KEY_ID = API_KEY_ID_CONDITION_KEY.toLowerCase();

// Requests in the same second share the string (a busy gateway formats it once a second).
let lastSecond = Number.NaN;
let lastIso = '';

/** AWS's aws:CurrentTime form: ISO 8601 UTC without milliseconds. */
function isoSeconds(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastIso = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
    lastSecond = second;
  }
  return lastIso;
}

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Returns a factory: per request one closure over ctx; nothing is computed until a policy asks. The
 * forwarded facts are resolved at most once per request (two keys depend on them).
 */
export function createConditionContextBuilder(options: ConditionContextOptions): (ctx: RequestContext) => ConditionGetter {
  const { trustedProxies, apiKeyId } = options;
  return (ctx) => {
    let forwarded: { sourceIp: string; secure: boolean } | undefined;
    const facts = () => {
      if (forwarded !== undefined) return forwarded;
      const peer = normalize(ctx.req.socket?.remoteAddress ?? ctx.identity.sourceIp);
      forwarded = trustedProxies.size === 0
        ? { sourceIp: peer || ctx.identity.sourceIp, secure: ctx.secureTransport }
        : trustedProxies.resolve(peer, ctx.secureTransport, ctx.req.headers['x-forwarded-for'], ctx.req.headers['x-forwarded-proto']);
      return forwarded;
    };
    return (k) => {
      if (k.startsWith('aws:')) {
        switch (k) {
          case 'aws:sourceip': return facts().sourceIp || undefined;
          case 'aws:securetransport': return facts().secure ? 'true' : 'false';
          case 'aws:currenttime': return isoSeconds(ctx.requestTimeEpoch);
          case 'aws:epochtime': return String(Math.floor(ctx.requestTimeEpoch / 1000));
          case 'aws:useragent': return header(ctx, 'user-agent');
          case 'aws:referer': return header(ctx, 'referer');
        }
        const caller = callerIdentityOf(ctx)?.caller;
        if (caller === undefined) return undefined;
        switch (k) {
          case 'aws:principalarn': return caller.arn;
          case 'aws:principalaccount': return caller.accountId;
          case 'aws:principaltype': return caller.type;
          case 'aws:username': return caller.username;
          case 'aws:userid': return caller.userid;
        }
        if (k.startsWith(PRINCIPAL_TAG)) return caller.tags?.get(k.slice(PRINCIPAL_TAG.length));
        return undefined;
      }
      if (k === API_KEY_ID) return ctx.identity.apiKeyId || apiKeyId?.(ctx) || undefined;
      // Keys other stages offer (jwt:*, cognito:groups, client-certificate fields...).
      const extra = ctx.extensions[CONDITION_KEYS_EXTENSION] as ReadonlyMap<string, ContextValue> | undefined;
      return extra?.get(k);
    };
  };
}
