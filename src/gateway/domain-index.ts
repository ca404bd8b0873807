// Custom domain names in the snapshot: host (exact, then one-label wildcard) + base path mapping ->
// API stage, with no stage segment in the path, as AWS base path mappings work.
import type { DomainDefinition } from '../config/tls-schema.ts';
import type { ApiSelection, CompiledApi } from './compiled.ts';

interface Mapping {
  /** '' for the root mapping, else '/seg[/seg]'. */
  readonly prefix: string;
  /** $context.customDomain.basePathMatched: the base path as configured, '(none)' for the root one. */
  readonly basePathMatched: string;
  readonly api: CompiledApi;
  readonly stageName: string;
}

export interface CompiledDomain {
  readonly name: string;
  /** Longest base path first. */
  readonly mappings: readonly Mapping[];
}

export interface DomainIndex {
  readonly size: number;
  /** The domain serving this host name, exact before wildcard. */
  find(host: string): CompiledDomain | undefined;
}

export function compileDomainIndex(domains: readonly DomainDefinition[], apisByName: ReadonlyMap<string, CompiledApi>): DomainIndex {
  const exact = new Map<string, CompiledDomain>();
  const wildcard = new Map<string, CompiledDomain>();
  for (const d of domains) {
    const mappings: Mapping[] = [];
    for (const m of d.basePathMappings) {
      const api = apisByName.get(m.api);
      // validate.ts reports unknown APIs; a mapping to nothing selects nothing.
      if (!api) continue;
      mappings.push({ prefix: m.basePath ? `/${m.basePath}` : '', basePathMatched: m.basePath ?? '(none)', api, stageName: m.stage });
    }
    mappings.sort((a, b) => b.prefix.length - a.prefix.length);
    const compiled = Object.freeze({ name: d.name, mappings: Object.freeze(mappings) });
    if (d.name.startsWith('*.')) wildcard.set(d.name.slice(2), compiled);
    else exact.set(d.name, compiled);
  }
  return {
    size: exact.size + wildcard.size,
    find(host) {
      const hit = exact.get(host);
      if (hit !== undefined || wildcard.size === 0) return hit;
      // A wildcard covers exactly one label, as in certificates and AWS wildcard custom domains.
      const dot = host.indexOf('.');
      return dot > 0 ? wildcard.get(host.slice(dot + 1)) : undefined;
    },
  };
}

/** The API stage a custom domain maps this path to, or undefined (AWS answers 403 Forbidden). */
export function selectOnDomain(domain: CompiledDomain, rawPath: string): ApiSelection | undefined {
  for (const m of domain.mappings) {
    const p = m.prefix;
    if (p && !(rawPath.startsWith(p) && (rawPath.length === p.length || rawPath.charCodeAt(p.length) === 47))) continue;
    const rest = p ? rawPath.slice(p.length) : rawPath;
    return {
      api: m.api,
      stage: m.api.stages.get(m.stageName),
      stageName: m.stageName,
      stagePath: rest === '' ? '/' : rest,
      domain: domain.name,
      basePathMatched: m.basePathMatched,
    };
  }
  return undefined;
}
