// Admin API routes of monitoring: alarm states (CloudWatch DescribeAlarms), the source addresses an alarm has
// blocked, and lifting a block early. Alarms themselves are defined in the definition's `monitoring` section.
import type { AdminRole } from '../../store/ports.ts';
import type { Monitor } from '../../observe/alarms/monitor.ts';
import { AdminHttpError } from '../admin-errors.ts';

interface State {
  readonly params: Readonly<Record<string, string>>;
}
interface Deps {
  readonly monitor?: Monitor;
}
type Reply = { readonly status: number; readonly json: unknown };
interface AlarmRoute {
  readonly method: 'GET' | 'DELETE';
  readonly path: string;
  readonly role: AdminRole;
  readonly eventName: string;
  readonly handle: (state: State, deps: Deps) => Promise<Reply>;
}

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
