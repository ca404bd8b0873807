// Semantic checks for the HTTPS part of a definition (src/config/tls-schema.ts): unique domain names,
// base path mappings that name an existing API stage, trusted-proxy CIDRs that parse.
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
