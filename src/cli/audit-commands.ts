// `portcullis audit ...`: list and export the audit trail through the admin API, and verify the chain and the
// signed digests directly against the store (so a compromised gateway cannot vouch for its own log).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { CommandIo, Remote } from './admin-client.ts';
import { formatTable, formatTime } from './format.ts';
import { openStore } from '../store/open-store.ts';
import { readPublicKeys, AUDIT_PUBLIC_KEY_FILE } from '../audit/signing-key.ts';
import { verifyAuditTrail } from '../audit/verify.ts';

type Io = Pick<CommandIo, 'out' | 'printJson' | 'env' | 'setExitCode'>;

interface ListedEvent {
  sequenceNumber: number;
  eventTime: string;
  eventName: string;
  userIdentity: { type: string; userName?: string; principalId?: string };
  sourceIPAddress: string | null;
  errorCode?: string;
}

const seq = (value: string): number => {
  if (!/^\d{1,15}$/.test(value)) throw new InvalidArgumentError('expected a sequence number');
  return Number(value);
};
const time = (value: string): string => {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO 8601 time such as 2026-11-24T00:00:00Z');
  return new Date(ms).toISOString();
};

export function registerAuditCommands(program: Command, remote: Remote, io: Io): void {
  const audit = program.command('audit').description('the tamper-evident audit trail of control-plane actions (docs/audit.md)');

  remote(
    audit
      .command('list')
      .description('list audit events, oldest first (admin role)')
      .option('--since <time>', 'events at or after this ISO 8601 time', time)
      .option('--until <time>', 'events at or before this ISO 8601 time', time)
      .option('--event <name>', 'only this eventName, e.g. CreateApiKey')
      .option('--actor <id>', 'only events by this admin token id')
      .option('--after <seq>', 'only events after this sequence number (paging)', seq)
      .option('--limit <n>', 'at most n events (default 1000)', seq)
      .option('--jsonl', 'export as JSON Lines, one event per line'),
    async (client, options) => {
      const query = new URLSearchParams();
      for (const name of ['since', 'until', 'event', 'actor', 'after', 'limit'] as const) {
        if (options[name] !== undefined) query.set(name, String(options[name]));
      }
      const { body } = await client.request<{ events: ListedEvent[]; nextAfter: number | null }>('GET', `/v1/audit/events?${query}`);
      if (options.json) return io.printJson(body);
      // JSON Lines: one event per line, as GET /v1/audit/events?format=jsonl answers (the client reads JSON).
      if (options.jsonl) return body.events.forEach((e) => io.out(JSON.stringify(e)));
      io.out(
        formatTable(
          ['SEQ', 'TIME', 'EVENT', 'ACTOR', 'SOURCE', 'RESULT'],
          body.events.map((e) => [
            String(e.sequenceNumber),
            formatTime(e.eventTime),
            e.eventName,
            e.userIdentity.userName ?? e.userIdentity.principalId ?? e.userIdentity.type,
            e.sourceIPAddress ?? '-',
            e.errorCode ?? 'ok',
          ]),
        ),
      );
      if (body.nextAfter !== null) io.out(`(more: --after ${body.nextAfter})`);
    },
  );

  audit
    .command('verify')
    .description('check the hash chain and the signed digests in the store; exit 1 and name each problem when tampered')
    .option('--data-dir <dir>', 'data directory (its audit public key is trusted; env PORTCULLIS_DATA_DIR)', io.env.PORTCULLIS_DATA_DIR || '.portcullis')
    .option('--storage <spec>', 'sqlite (default), sqlite:PATH or postgres://... (env PORTCULLIS_STORAGE)', io.env.PORTCULLIS_STORAGE)
    .option('--public-key <file...>', 'more trusted public keys (PEM), e.g. of other nodes')
    .option('--from <seq>', 'first event to check', seq)
    .option('--to <seq>', 'last event to check', seq)
    .option('--json', 'print the report as JSON')
    .action(async (options: { dataDir: string; storage?: string; publicKey?: string[]; from?: number; to?: number; json?: boolean }) => {
      const pems: string[] = [];
      const own = join(options.dataDir, AUDIT_PUBLIC_KEY_FILE);
      if (existsSync(own)) pems.push(readFileSync(own, 'utf8'));
      for (const file of options.publicKey ?? []) pems.push(readFileSync(file, 'utf8'));
      const store = await openStore(options.storage ?? 'sqlite', { dataDir: options.dataDir, settingName: '--storage' });
      try {
        const report = await verifyAuditTrail(store.audit, readPublicKeys(pems), { fromSeq: options.from, toSeq: options.to });
        if (options.json) io.printJson(report);
        else {
          const range = report.firstSeq === null ? 'no events' : `events ${report.firstSeq}..${report.lastSeq}`;
          io.out(`${report.ok ? '✓' : '✗'} ${report.eventsChecked} events (${range}), ${report.digestsChecked} digests checked`);
          if (pems.length === 0) io.out(`! no trusted public key: pass --public-key or --data-dir holding ${AUDIT_PUBLIC_KEY_FILE}`);
          for (const p of report.problems) io.out(`  ${p.kind.toUpperCase()} at ${p.seq}: ${p.message}`);
          if (report.unsignedTail > 0) io.out(`  note: the last ${report.unsignedTail} events are chained but not yet sealed by a digest`);
        }
        if (!report.ok) io.setExitCode(1);
      } finally {
        await store.close();
      }
    });
}
