// Makes an HTTP/2 compatibility request look like an HTTP/1.1 one to the dispatcher and integrations:
// Host from :authority, no pseudo-headers in req.headers, and connection-specific response headers
// (forbidden in HTTP/2, RFC 9113 §8.2.2) dropped instead of throwing.
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

export function adaptHttp2Request(req: Http2ServerRequest, res: Http2ServerResponse): void {
  const all = req.headers as Record<string, string | string[] | undefined>;
  // A copy: the compat request reads its url and method from the pseudo-headers of the original.
  const headers: Record<string, string | string[] | undefined> = {};
  for (const name in all) if (name.charCodeAt(0) !== 58) headers[name] = all[name];
  const authority = all[':authority'];
  if (headers.host === undefined && typeof authority === 'string') headers.host = authority;
  Object.defineProperty(req, 'headers', { value: headers, writable: true, configurable: true, enumerable: true });
  const setHeader = res.setHeader;
  res.setHeader = function (this: Http2ServerResponse, name: string, value: number | string | readonly string[]) {
    if (CONNECTION_SPECIFIC.has(name.toLowerCase())) return this;
    return setHeader.call(this, name, value);
  } as typeof res.setHeader;
}
