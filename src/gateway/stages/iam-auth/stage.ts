// The IAM authenticate stage (phase 'authenticate', reference section 5): verifies AWS Signature Version 4 for
// execute-api against the in-memory IAM directory, then records the caller and its identity policies for the
// authorize stage and sets $context.identity.caller/user/userArn/accountId/accessKey.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../../core/clock.ts';
import { deny, type Denial } from '../../../core/denial.ts';
import { EMPTY_SHA256, sha256Hex } from '../../../security/sigv4/canonical.ts';
import {
  checkScopeAndTime, createSigningKeyCache, EXPIRED_TOKEN_MESSAGE, INVALID_TOKEN_MESSAGE, parseSigV4, verifySignature,
  type SigV4Failure,
} from '../../../security/sigv4/verify.ts';
import type { IamDirectory } from '../../../iam/iam-directory.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { RouteBuild, StageFactory, StageFn, StageResult } from '../../pipeline/stage.ts';
import { setCallerIdentity } from '../../pipeline/caller-identity.ts';

export interface IamAuthDeps {
  readonly clock: Clock;
  /** Absent when the node runs without IAM (tests of other stages): every access key is then unknown. */
  readonly iam?: { readonly directory: IamDirectory };
}

/** ctx.extensions key holding a body a stage had to read whole; the http_proxy integration sends it as is. */
export const REQUEST_BODY_EXTENSION = 'requestBody';
const SERVICE = 'execute-api';

// One cache per node (deps object): signing keys survive redeploys.
const caches = new WeakMap<object, ReturnType<typeof createSigningKeyCache>>();

function failure(f: SigV4Failure, detail: string): Denial {
  switch (f.kind) {
    case 'MISSING':
      return deny('MISSING_AUTHENTICATION_TOKEN', { detail });
    case 'INCOMPLETE':
      // Same status as INVALID_SIGNATURE; AWS names it IncompleteSignatureException.
      return deny('INVALID_SIGNATURE', { message: f.message, detail, headers: { 'x-amzn-ErrorType': 'IncompleteSignatureException' } });
    case 'INVALID_SIGNATURE':
      return deny('INVALID_SIGNATURE', { message: f.message, detail });
    case 'INVALID_TOKEN':
      // AWS's 403 troubleshooting table: this message comes with x-amzn-ErrorType AccessDeniedException (the type's default).
      return deny('ACCESS_DENIED', { message: INVALID_TOKEN_MESSAGE, messageKey: 'message', detail });
    case 'EXPIRED_TOKEN':
      return deny('EXPIRED_TOKEN', { message: EXPIRED_TOKEN_MESSAGE, detail });
  }
}

const invalidToken = (detail: string): Denial => failure({ ok: false, kind: 'INVALID_TOKEN', message: INVALID_TOKEN_MESSAGE }, detail);

function hasBody(ctx: RequestContext): boolean {
  const cl = ctx.req.headers['content-length'];
  return cl !== undefined ? cl !== '0' : ctx.req.headers['transfer-encoding'] !== undefined;
}

/**
 * Reads the whole body (up to the limit) and hashes it: the signature covers the body, and the upstream must not
 * see a request before it is authenticated, so streaming is not an option for signed requests.
 */
function readBody(ctx: RequestContext, max: number): Promise<Buffer | Denial> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const req = ctx.req;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        cleanup();
        req.pause();
        resolve(deny('REQUEST_TOO_LARGE', { detail: `signed request body exceeds ${max} bytes` }));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      ctx.requestBodyLength = size;
      resolve(Buffer.concat(chunks, size));
    };
    const onError = () => {
      cleanup();
      resolve(deny('BAD_REQUEST', { detail: 'request body could not be read' }));
    };
    const cleanup = () => req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onError);
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onError);
  });
}

export const iamAuthStage: StageFactory<IamAuthDeps> = Object.freeze({
  name: 'iam-sigv4',
  phase: 'authenticate' as const,
  create(build: RouteBuild<IamAuthDeps>): StageFn | null {
    if (build.route.auth !== 'iam') return null;
    const { clock, iam } = build.deps;
    const region = build.definition.settings.region;
    const maxBody = build.definition.settings.maxRequestBodyBytes;
    let keyCache = caches.get(build.deps);
    if (keyCache === undefined) caches.set(build.deps, (keyCache = createSigningKeyCache()));
    const signingKeys = keyCache;

    function finish(ctx: RequestContext, p: Extract<ReturnType<typeof parseSigV4>, { ok: true }>, key: NonNullable<ReturnType<IamDirectory['accessKey']>>, payloadHash: string): StageResult {
      const bad = verifySignature(p, key.secret, payloadHash, signingKeys);
      if (bad) return failure(bad, `sigv4: signature mismatch for ${key.id}`);
      iam!.directory.recordUse(key.id, clock.now());
      const c = key.caller;
      setCallerIdentity(ctx, { kind: 'iam', caller: c, policies: key.policies });
      const id = ctx.identity;
      id.caller = c.userid;
      id.user = c.userid;
      id.userArn = c.arn;
      id.accountId = c.accountId;
      id.accessKey = key.id;
      // AWS strips a SigV4 Authorization header before calling the integration.
      // Set to undefined rather than deleted: `delete` turns the headers object into a slow dictionary, and the
      // http_proxy integration skips undefined values.
      if (p.form === 'header') ctx.req.headers.authorization = undefined;
      return undefined;
    }

    return function iamSigV4(ctx) {
      const p = parseSigV4({ method: ctx.httpMethod, rawPath: ctx.rawPath, rawQuery: ctx.rawQuery, rawHeaders: ctx.req.rawHeaders });
      if (!p.ok) return failure(p, `sigv4: ${p.kind.toLowerCase()}`);
      const now = clock.now();
      const early = checkScopeAndTime(p, { region, service: SERVICE, nowMs: now });
      if (early) return failure(early, 'sigv4: scope, time or unsigned headers');
      const key = iam?.directory.accessKey(p.accessKeyId);
      if (key === undefined) return invalidToken(`sigv4: unknown access key ${p.accessKeyId}`);
      if (!key.active) return invalidToken(`sigv4: access key ${key.id} is inactive`);
      if (key.sessionTokenHash !== null) {
        const given = p.securityToken === undefined ? undefined : createHash('sha256').update(p.securityToken).digest();
        if (given === undefined || !timingSafeEqual(given, Buffer.from(key.sessionTokenHash, 'hex'))) return invalidToken(`sigv4: session token does not match ${key.id}`);
        if (now >= key.expiresAtMs) return failure({ ok: false, kind: 'EXPIRED_TOKEN', message: EXPIRED_TOKEN_MESSAGE }, `sigv4: temporary credentials ${key.id} expired`);
      } else if (p.securityToken !== undefined) {
        return invalidToken(`sigv4: a session token was sent with long-term key ${key.id}`);
      }
      // Only a request naming a known, active key gets its body read: unknown callers cannot make the gateway buffer.
      if (!hasBody(ctx)) return finish(ctx, p, key, EMPTY_SHA256);
      return readBody(ctx, maxBody).then((body): StageResult => {
        if (!Buffer.isBuffer(body)) return body as Denial;
        ctx.extensions[REQUEST_BODY_EXTENSION] = body;
        return finish(ctx, p, key, sha256Hex(body));
      });
    };
  },
});
