// Semantic checks on `usagePlans`: unique names, known API and stage, each API stage in at most one apiStages
// entry per plan, method keys naming real routes, quota offset below the limit, per-key limits within the account's.
import { didYouMean } from './problems.ts';
import type { PathSegment } from './problems.ts';
import type { Definition } from './schema.ts';

type Add = (path: PathSegment[], message: string) => void;
const q = (s: string): string => JSON.stringify(s);

export function checkUsagePlans(definition: Definition, add: Add): void {
  const plans = definition.usagePlans;
  const apis = new Map(definition.apis.map((a) => [a.name, a]));
  const names = new Map<string, number>();
  const account = definition.settings.accountThrottle;
  plans.forEach((plan, pi) => {
    const at: PathSegment[] = ['usagePlans', pi];
    const same = names.get(plan.name);
    if (same !== undefined) add([...at, 'name'], `plan name ${q(plan.name)} is already used by usagePlans[${same}]`);
    else names.set(plan.name, pi);
    if (plan.quota && plan.quota.offset >= plan.quota.limit && plan.quota.offset > 0) {
      add([...at, 'quota', 'offset'], `offset ${plan.quota.offset} must be below limit ${plan.quota.limit}`);
    }
    const overAccount = (t: { rateLimit: number; burstLimit: number }, path: PathSegment[]) => {
      if (t.rateLimit > account.rateLimit || t.burstLimit > account.burstLimit) {
        add(path, `a per-key throttle (rate ${t.rateLimit}, burst ${t.burstLimit}) may not exceed the account throttle (rate ${account.rateLimit}, burst ${account.burstLimit}; settings.accountThrottle)`);
      }
    };
    if (plan.throttle) overAccount(plan.throttle, [...at, 'throttle']);
    const seen = new Set<string>();
    plan.apiStages.forEach((s, si) => {
      const sp: PathSegment[] = [...at, 'apiStages', si];
      const api = apis.get(s.api);
      if (!api) {
        add([...sp, 'api'], `no API is named ${q(s.api)}${didYouMean(s.api, apis.keys())}`);
        return;
      }
      if (!(s.stage in api.stages)) {
        add([...sp, 'stage'], `API ${q(s.api)} has no stage ${q(s.stage)}${didYouMean(s.stage, Object.keys(api.stages))}`);
        return;
      }
      const id = `${s.api}/${s.stage}`;
      if (seen.has(id)) add(sp, `${id} is listed twice in this plan`);
      seen.add(id);
      const routeKeys = new Set(api.routes.map((r) => `${r.path}/${r.method}`));
      for (const [key, t] of Object.entries(s.throttle ?? {})) {
        if (!routeKeys.has(key)) add([...sp, 'throttle', key], `${q(key)} names no route of ${q(s.api)}: write "/path/METHOD" as a route is written${didYouMean(key, routeKeys)}`);
        overAccount(t, [...sp, 'throttle', key]);
      }
    });
  });
}
