// Semantic check of apis[].resourcePolicy: the IAM engine parses it (with the execute-api shorthand expanded
// for the API's region, account and id) and every problem is reported at its JSON path inside the definition.
import { parsePolicy, type CompiledPolicy, type ParseResult } from '../security/iam/index.ts';
import { deriveApiId } from './api-id.ts';
import type { PathSegment } from './problems.ts';
import type { ApiDefinition, Definition, Settings } from './schema.ts';

type Add = (path: PathSegment[], message: string) => void;

/** Parses an API's resource policy for the definition's region/account and the API's id. */
export function parseResourcePolicy(api: ApiDefinition, settings: Settings): ParseResult {
  const apiId = api.id ?? deriveApiId(api.name);
  return parsePolicy(api.resourcePolicy, {
    kind: 'resource',
    policyId: `${api.name} resource policy`,
    api: { region: settings.region, accountId: settings.accountId, apiId },
  });
}

// Compiled once per API definition object: every route and stage of a snapshot shares it.
const compiled = new WeakMap<ApiDefinition, CompiledPolicy>();

/** The compiled resource policy of an API (undefined when it has none). Throws on an invalid one (validation refuses those first). */
export function compiledResourcePolicy(api: ApiDefinition, settings: Settings): CompiledPolicy | undefined {
  if (api.resourcePolicy === undefined) return undefined;
  let p = compiled.get(api);
  if (p === undefined) {
    const r = parseResourcePolicy(api, settings);
    if (!r.ok) throw new Error(`resourcePolicy: ${r.problems.map((x) => `${x.path || '(document)'}: ${x.message}`).join('; ')}`);
    compiled.set(api, (p = r.policy));
  }
  return p;
}

/**
 * The engine writes paths like `Statement[1].Condition.IpAddress["aws:SourceIp"][0]`; the definition's
 * problems take segments so the loader can find the line.
 */
export function jsonPathSegments(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') { i++; continue; }
    if (c === '[') {
      if (path[i + 1] === '"') {
        // A JSON string literal: find its closing quote, skipping escapes.
        let j = i + 2;
        while (j < path.length && path[j] !== '"') j += path[j] === '\\' ? 2 : 1;
        out.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        i = j + 2;
      } else {
        const j = path.indexOf(']', i);
        out.push(Number(path.slice(i + 1, j)));
        i = j + 1;
      }
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
    out.push(path.slice(i, j));
    i = j;
  }
  return out;
}

export function checkResourcePolicies(definition: Definition, add: Add): void {
  definition.apis.forEach((api, i) => {
    if (api.resourcePolicy === undefined) return;
    const r = parseResourcePolicy(api, definition.settings);
    if (r.ok) return;
    for (const p of r.problems) add(['apis', i, 'resourcePolicy', ...jsonPathSegments(p.path)], p.message);
  });
}
