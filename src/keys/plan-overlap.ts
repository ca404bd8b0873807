// A key may be in only one plan per API stage. Subscriptions enforce it as they are made (key-service.ts, and the
// store's transaction); a definition can still break it afterwards by adding an API stage to a plan whose keys are
// already in another plan covering that stage. This finds those keys, so such a deploy is refused with them named.
import type { Definition } from '../config/schema.ts';
import type { DefinitionProblem } from '../config/problems.ts';

/** Keys named in a problem at most; the rest are counted. */
const NAMED_KEYS = 5;

export async function subscriptionOverlaps(
  definition: Pick<Definition, 'usagePlans'>,
  subscribers: (plan: string) => Promise<readonly string[]>,
): Promise<DefinitionProblem[]> {
  const plans = definition.usagePlans;
  const byStage = new Map<string, number[]>();
  plans.forEach((p, i) => {
    for (const s of p.apiStages) {
      const stage = `${s.api}/${s.stage}`;
      byStage.set(stage, [...(byStage.get(stage) ?? []), i]);
    }
  });
  // Only plans that share a stage with another can clash: most definitions need no store query at all.
  const pairs = new Map<string, { a: number; b: number; stage: string }>();
  for (const [stage, list] of byStage) {
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        const key = `${list[x]}:${list[y]}`;
        if (!pairs.has(key)) pairs.set(key, { a: list[x]!, b: list[y]!, stage });
      }
    }
  }
  if (pairs.size === 0) return [];
  const keysOf = new Map<number, Set<string>>();
  const keys = async (i: number) => {
    let set = keysOf.get(i);
    if (set === undefined) keysOf.set(i, (set = new Set(await subscribers(plans[i]!.name))));
    return set;
  };
  const problems: DefinitionProblem[] = [];
  for (const { a, b, stage } of pairs.values()) {
    const inA = await keys(a);
    const both = [...(await keys(b))].filter((k) => inA.has(k)).sort();
    if (both.length === 0) continue;
    const named = both.slice(0, NAMED_KEYS).join(', ') + (both.length > NAMED_KEYS ? ` and ${both.length - NAMED_KEYS} more` : '');
    problems.push({
      path: `usagePlans[${b}].apiStages`,
      message:
        `plans ${JSON.stringify(plans[a]!.name)} and ${JSON.stringify(plans[b]!.name)} would both cover API stage ${stage}, and ` +
        `${both.length === 1 ? 'key' : `${both.length} keys`} ${named} ${both.length === 1 ? 'is' : 'are'} subscribed to both; a key may be in only ` +
        `one plan per API stage: unsubscribe ${both.length === 1 ? 'it' : 'them'} from one of the plans first (portcullis plans unsubscribe)`,
    });
  }
  return problems;
}
