// Renders gateway responses: AWS's defaults from the catalogue, overridden per API by `gatewayResponses`
// with AWS's resolution order (type -> DEFAULT_4XX/DEFAULT_5XX -> built-in). Compiled once per snapshot.
import { RESPONSE_TYPES, type ResponseType } from '../core/gateway-responses.ts';
import type { Denial } from '../core/denial.ts';
import type { GatewayResponseDefinition } from '../config/schema.ts';
import { compileVariable } from '../observe/context-variables.ts';
import { applyGatewayHeaders, type RequestContext } from './pipeline/context.ts';

type ValueFn = (ctx: RequestContext) => string | undefined;

interface CompiledOverride {
  readonly statusCode?: number;
  readonly headers: ReadonlyArray<readonly [string, ValueFn]>;
  readonly contentType?: string;
  readonly template?: (ctx: RequestContext) => string;
}

export interface GatewayResponder {
  /** Writes the gateway response for a denial; a no-op if the response already started. */
  send(ctx: RequestContext, denial: Denial): void;
}

const JSON_TYPE = 'application/json';

/** Builds a responder for one API (or the global one, with no overrides). */
export function createGatewayResponder(overrides: Partial<Record<string, GatewayResponseDefinition>> = {}): GatewayResponder {
  const compiled = new Map<string, CompiledOverride>();
  for (const [type, def] of Object.entries(overrides)) if (def) compiled.set(type, compileOverride(def));
  const d4 = compiled.get('DEFAULT_4XX');
  const d5 = compiled.get('DEFAULT_5XX');

  return {
    send(ctx, denial) {
      const res = ctx.res;
      if (res.headersSent || res.writableEnded || res.destroyed) return;
      const info = RESPONSE_TYPES[denial.type];
      const baseStatus = denial.status ?? info.status ?? 500;
      const fallback = baseStatus >= 500 ? d5 : d4;
      // A type's own response wins; else DEFAULT_4XX/5XX by status class, whose statusCode replaces
      // the default of every type of that class without a response of its own (AWS section 2.2).
      const applied = info.customizable ? compiled.get(denial.type) ?? fallback : undefined;
      const status = applied?.statusCode ?? baseStatus;

      const message = denial.message === undefined ? info.message : denial.message;
      const err = ctx.error;
      err.message = message;
      err.messageString = JSON.stringify(message);
      err.responseType = denial.type;
      if (denial.validationErrorString) err.validationErrorString = denial.validationErrorString;
      if (denial.detail) ctx.denialDetail = denial.detail;

      let body: string;
      let contentType = JSON_TYPE;
      if (applied?.template) {
        body = applied.template(ctx);
        contentType = applied.contentType ?? JSON_TYPE;
      } else {
        body = `{"${denial.messageKey ?? 'message'}":${err.messageString}}`;
      }

      res.statusCode = status;
      applyGatewayHeaders(ctx);
      res.setHeader('content-type', contentType);
      res.setHeader('x-amzn-ErrorType', info.errorType || (status >= 500 ? 'InternalServerErrorException' : 'BadRequestException'));
      if (denial.headers) for (const k in denial.headers) res.setHeader(k, denial.headers[k]);
      if (applied) {
        for (const [name, fn] of applied.headers) {
          const v = fn(ctx);
          if (v !== undefined) res.setHeader(name, v);
        }
      }
      const buf = Buffer.from(body, 'utf8');
      res.setHeader('content-length', buf.length);
      res.end(ctx.httpMethod === 'HEAD' ? undefined : buf);
    },
  };
}

function compileOverride(def: GatewayResponseDefinition): CompiledOverride {
  const headers: Array<readonly [string, ValueFn]> = [];
  for (const [name, expr] of Object.entries(def.headers ?? {})) headers.push([name, compileParameter(expr)]);
  let contentType: string | undefined;
  let template: ((ctx: RequestContext) => string) | undefined;
  const templates = def.templates ?? {};
  const key = JSON_TYPE in templates ? JSON_TYPE : Object.keys(templates)[0];
  if (key !== undefined) {
    contentType = key;
    template = compileTemplate(templates[key]);
  }
  return { statusCode: def.statusCode, headers, contentType, template };
}

/** AWS responseParameters values: 'literal', method.request.{header|path|querystring}.X, stageVariables.X. */
export function compileParameter(expr: string): ValueFn {
  if (expr.length >= 2 && expr.startsWith("'") && expr.endsWith("'")) {
    const literal = expr.slice(1, -1);
    return () => literal;
  }
  let m = /^method\.request\.header\.(.+)$/.exec(expr);
  if (m) {
    const name = m[1].toLowerCase();
    return (ctx) => {
      const v = ctx.req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
  }
  m = /^method\.request\.path\.(.+)$/.exec(expr);
  if (m) {
    const name = m[1];
    return (ctx) => ctx.pathParameters[name];
  }
  m = /^method\.request\.querystring\.(.+)$/.exec(expr);
  if (m) {
    const name = m[1];
    return (ctx) => new URLSearchParams(ctx.rawQuery).get(name) ?? undefined;
  }
  m = /^stageVariables\.(.+)$/.exec(expr);
  if (m) {
    const name = m[1];
    return (ctx) => ctx.stageVariables[name];
  }
  throw new Error(`unsupported gateway response parameter ${JSON.stringify(expr)}`);
}

/**
 * Gateway-response templates are not VTL in AWS: only $context.*, $stageVariables.* and
 * $method.request.* references are substituted, verbatim.
 */
export function compileTemplate(source: string): (ctx: RequestContext) => string {
  const parts: Array<string | ((ctx: RequestContext) => string)> = [];
  const re = /\$(context|stageVariables|method\.request\.(?:header|path|querystring))\.([A-Za-z0-9_.-]*[A-Za-z0-9_])/g;
  let last = 0;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    parts.push(source.slice(last, m.index));
    last = m.index + m[0].length;
    const [, ns, name] = m;
    if (ns === 'context') {
      const get = compileVariable(name);
      parts.push((ctx) => {
        const v = get(ctx);
        return v === null || v === undefined ? '' : String(v);
      });
    } else if (ns === 'stageVariables') {
      parts.push((ctx) => ctx.stageVariables[name] ?? '');
    } else {
      const fn = compileParameter(`${ns}.${name}`);
      parts.push((ctx) => fn(ctx) ?? '');
    }
  }
  parts.push(source.slice(last));
  const fixed = parts.filter((p) => p !== '');
  return (ctx) => {
    let out = '';
    for (const p of fixed) out += typeof p === 'string' ? p : p(ctx);
    return out;
  };
}

export const defaultResponder = createGatewayResponder();
export type { ResponseType };
