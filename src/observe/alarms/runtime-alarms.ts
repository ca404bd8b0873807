// Alarms defined through the admin API (POST /v1/alarms, DELETE /v1/alarms/{name}), next to those of the
// definition: kept in the store's meta table as one JSON list, and reloaded on every node when one changes them.
import type { ChangeNotifier, MetaStore } from '../../store/ports.ts';
import { AlarmSchema, type AlarmDefinition } from './schema.ts';

const META_KEY = 'monitoring.runtimeAlarms';
const PAYLOAD = JSON.stringify({ kind: 'alarms' });

export interface RuntimeAlarms {
  list(): readonly AlarmDefinition[];
  /** Creates or replaces the alarm of that name. */
  put(alarm: AlarmDefinition): Promise<void>;
  /** False when there was no such alarm. */
  remove(name: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function openRuntimeAlarms(options: {
  meta: MetaStore;
  changes: ChangeNotifier;
  onChange: (alarms: readonly AlarmDefinition[]) => void;
  onError: (err: unknown) => void;
}): Promise<RuntimeAlarms> {
  const { meta, changes, onChange, onError } = options;
  let alarms: AlarmDefinition[] = [];

  async function load(): Promise<void> {
    const raw = await meta.get(META_KEY);
    const parsed = raw ? (JSON.parse(raw) as unknown[]) : [];
    // Stored alarms were validated when written; parse again so defaults added by a newer version apply.
    alarms = parsed.flatMap((a) => {
      const r = AlarmSchema.safeParse(a);
      return r.success ? [r.data] : [];
    });
    onChange(alarms);
  }
  await load();
  const unsubscribe = await changes.subscribe('entities', (payload) => {
    if (payload === PAYLOAD) load().catch(onError);
  });

  // Writes are serialized in this process; across nodes the last writer wins, as for any admin change.
  let chain: Promise<unknown> = Promise.resolve();
  const write = <T>(fn: (current: AlarmDefinition[]) => { next: AlarmDefinition[]; result: T }): Promise<T> => {
    const run = chain.then(async () => {
      const raw = await meta.get(META_KEY);
      const current = raw ? (JSON.parse(raw) as AlarmDefinition[]) : [];
      const { next, result } = fn(current);
      await meta.set(META_KEY, JSON.stringify(next));
      await changes.publish('entities', PAYLOAD);
      await load(); // this node answers with the change applied; the others reload on the notification
      return result;
    });
    chain = run.catch(() => undefined);
    return run;
  };

  return {
    list: () => alarms,
    put: (alarm) => write((current) => ({ next: [...current.filter((a) => a.name !== alarm.name), alarm], result: undefined })),
    remove: (name) => write((current) => ({ next: current.filter((a) => a.name !== name), result: current.some((a) => a.name === name) })),
    close: () => unsubscribe(),
  };
}
