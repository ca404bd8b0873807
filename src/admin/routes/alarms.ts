// Admin API routes of monitoring: alarm states (CloudWatch DescribeAlarms), alarms defined at run time next to
// the definition's (PutMetricAlarm, DeleteAlarms), the source addresses an alarm blocked, and lifting a block.
import type { AdminRole } from '../../store/ports.ts';
import type { Monitor } from '../../observe/alarms/monitor.ts';
import type { RuntimeAlarms } from '../../observe/alarms/runtime-alarms.ts';
import { AlarmSchema } from '../../observe/alarms/schema.ts';
import { AdminHttpError } from '../admin-errors.ts';

interface State {
  readonly params: Readonly<Record<string, string>>;
}
interface Deps {
  readonly monitor?: Monitor;
  readonly runtimeAlarms?: RuntimeAlarms;
  readJson(state: never, fields: readonly string[]): Promise<Record<string, unknown>>;
}
type Reply = { readonly status: number; readonly json: unknown };
interface AlarmRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly role: AdminRole;
  readonly eventName: string;
  readonly handle: (state: State, deps: Deps) => Promise<Reply>;
}

const ALARM_FIELDS = [
  'name', 'description', 'metric', 'per', 'api', 'periodSeconds', 'evaluationPeriods', 'datapointsToAlarm', 'threshold',
  'comparison', 'anomalyBand', 'treatMissingData', 'notify', 'actions',
];

const monitorOf = (deps: Deps): Monitor => {
  if (!deps.monitor) throw new AdminHttpError('NOT_FOUND', 'monitoring is not enabled on this server');
  return deps.monitor;
};

export const ALARM_ROUTES: readonly AlarmRoute[] = Object.freeze([
  {
    method: 'GET',
    path: '/v1/alarms',
    role: 'read-only',
    eventName: 'DescribeAlarms',
    handle: async (_state, deps) => ({ status: 200, json: { alarms: monitorOf(deps).alarms() } }),
  },
  {
    method: 'POST',
    path: '/v1/alarms',
    role: 'operator',
    eventName: 'PutMetricAlarm',
    handle: async (state, deps) => {
      const monitor = monitorOf(deps);
      if (!deps.runtimeAlarms) throw new AdminHttpError('NOT_FOUND', 'alarms cannot be defined at run time on this server');
      const body = await deps.readJson(state as never, ALARM_FIELDS);
      const parsed = AlarmSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new AdminHttpError('BAD_REQUEST', `${issue.path.length ? issue.path.join('.') : 'alarm'}: ${issue.message}`);
      }
      const problem = monitor.checkRuntimeAlarm(parsed.data);
      if (problem) throw new AdminHttpError('BAD_REQUEST', problem);
      await deps.runtimeAlarms.put(parsed.data);
      return { status: 200, json: { alarm: parsed.data } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/alarms/{name}',
    role: 'operator',
    eventName: 'DeleteAlarms',
    handle: async ({ params }, deps) => {
      monitorOf(deps);
      if (!deps.runtimeAlarms || !(await deps.runtimeAlarms.remove(params.name!))) {
        throw new AdminHttpError('NOT_FOUND', `no alarm ${JSON.stringify(params.name)} was defined through the admin API (alarms of the definition change with a deployment)`);
      }
      return { status: 200, json: { deleted: params.name } };
    },
  },
  {
    method: 'GET',
    path: '/v1/blocked-sources',
    role: 'read-only',
    eventName: 'ListBlockedSources',
    handle: async (_state, deps) => ({ status: 200, json: { blocked: monitorOf(deps).blocked() } }),
  },
  {
    method: 'DELETE',
    path: '/v1/blocked-sources/{sourceIp}',
    role: 'operator',
    eventName: 'DeleteBlockedSource',
    handle: async ({ params }, deps) => {
      if (!monitorOf(deps).unblock(params.sourceIp!)) {
        throw new AdminHttpError('NOT_FOUND', `the source address ${JSON.stringify(params.sourceIp)} is not blocked`);
      }
      return { status: 200, json: { unblocked: params.sourceIp } };
    },
  },
]);
