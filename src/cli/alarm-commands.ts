// `portcullis alarms ...`: alarm states and the source addresses alarms blocked, through the admin API
// (docs/monitoring.md). Alarms themselves are defined in the definition's `monitoring` section.
import type { Command } from 'commander';
import type { CommandIo, Remote } from './admin-client.ts';
import { formatTable, formatTime } from './format.ts';

type Io = Pick<CommandIo, 'out' | 'printJson'>;

interface AlarmRow {
  name: string;
  metric: string;
  per: string;
  state: string;
  series: Array<{ dimension: string; state: string; reason: string; stateChangedAt: string }>;
}

export function registerAlarmCommands(program: Command, remote: Remote, io: Io): void {
  const alarms = program.command('alarms').description('alarm states and blocked source addresses (docs/monitoring.md)');

  remote(alarms.command('list').description('every alarm with its state and the series not OK'), async (client, options) => {
    const { body } = await client.request<{ alarms: AlarmRow[] }>('GET', '/v1/alarms');
    if (options.json) return io.printJson(body);
    const rows: string[][] = [];
    for (const a of body.alarms) {
      rows.push([a.name, a.metric, a.per, a.state, '', '']);
      for (const s of a.series) if (s.dimension) rows.push([`  ${s.dimension}`, '', '', s.state, formatTime(s.stateChangedAt), s.reason]);
    }
    io.out(formatTable(['ALARM', 'METRIC', 'PER', 'STATE', 'SINCE', 'REASON'], rows));
  });

  remote(alarms.command('blocked').description('source addresses blocked by an alarm, and until when'), async (client, options) => {
    const { body } = await client.request<{ blocked: Array<{ sourceIp: string; until: string; alarm: string }> }>('GET', '/v1/blocked-sources');
    if (options.json) return io.printJson(body);
    io.out(formatTable(['SOURCE', 'UNTIL', 'ALARM'], body.blocked.map((b) => [b.sourceIp, formatTime(b.until), b.alarm])));
  });

  remote(
    alarms.command('unblock').description('lift a block before it expires (operator role)').argument('<sourceIp>', 'the blocked address'),
    async (client, options, sourceIp: string) => {
      const { body } = await client.request<{ unblocked: string }>('DELETE', `/v1/blocked-sources/${encodeURIComponent(sourceIp)}`);
      if (options.json) return io.printJson(body);
      io.out(`unblocked ${body.unblocked}`);
    },
  );
}
