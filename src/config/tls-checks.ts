// Semantic checks for the HTTPS part of a definition (src/config/tls-schema.ts): unique domain names,
// base path mappings that name an existing API stage, trusted-proxy CIDRs that parse, HSTS preload
// requirements, and `auth: mtls` routes reachable through a domain that asks for client certificates.
import ipaddr from 'ipaddr.js';
import type { Definition } from './schema.ts';
import type { PathSegment } from './problems.ts';

type Add = (path: PathSegment[], message: string) => void;

export function checkTls(definition: Definition, add: Add): void {
  const apis = new Map(definition.apis.map((a) => [a.name, a]));
  const seen = new Set<string>();
  definition.domains.forEach((domain, di) => {
    if (seen.has(domain.name)) add(['domains', di, 'name'], `domain ${JSON.stringify(domain.name)} is defined twice`);
    seen.add(domain.name);
    const paths = new Set<string>();
    domain.basePathMappings.forEach((m, mi) => {
      const at: PathSegment[] = ['domains', di, 'basePathMappings', mi];
      const key = m.basePath ?? '';
      if (paths.has(key)) add([...at, 'basePath'], `base path ${JSON.stringify(key || '(none)')} is mapped twice on ${domain.name}`);
      paths.add(key);
      const api = apis.get(m.api);
      if (!api) add([...at, 'api'], `unknown API ${JSON.stringify(m.api)}`);
      else if (!Object.hasOwn(api.stages, m.stage)) add([...at, 'stage'], `API ${m.api} has no stage ${JSON.stringify(m.stage)}`);
    });
  });
  const hsts = definition.settings.hsts;
  if (hsts.enabled && hsts.preload && (!hsts.includeSubDomains || hsts.maxAge < 31_536_000)) {
    // https://hstspreload.org/ refuses a header without includeSubDomains or with a max-age under a year.
    add(['settings', 'hsts', 'preload'], 'preload needs includeSubDomains: true and a maxAge of at least 31536000 (one year)');
  }
  const mtlsApis = new Set<string>();
  for (const d of definition.domains) if (d.mtls) for (const m of d.basePathMappings) mtlsApis.add(m.api);
  definition.apis.forEach((api, ai) => {
    if (mtlsApis.has(api.name)) return;
    api.routes.forEach((route, ri) => {
      if (route.auth === 'mtls') {
        add(['apis', ai, 'routes', ri, 'auth'], `auth: mtls needs a client certificate, but no custom domain with mtls maps API ${api.name}`);
      }
    });
  });
  definition.settings.trustedProxies.forEach((cidr, i) => {
    if (!isCidr(cidr)) add(['settings', 'trustedProxies', i], `${JSON.stringify(cidr)} is not an IP address or CIDR`);
  });
}

export function isCidr(value: string): boolean {
  try {
    if (value.includes('/')) ipaddr.parseCIDR(value);
    else ipaddr.parse(value);
    return true;
  } catch {
    return false;
  }
}
