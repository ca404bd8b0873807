// A gateway in a process of its own (node bin/portcullis.js serve): for tests that kill it (kill -9),
// read its application log (stderr), or run several nodes. Ports are chosen by the gateway (port 0).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, TEST_MASTER_KEY } from './gateway.ts';

const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));

export interface GatewayProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
  /** Everything written to stderr so far (banner and JSON log lines). */
  stderr(): string;
  /** Parsed JSON log lines so far. */
  logs(): Array<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface GatewayProcessOptions {
  /** Definition file (YAML or JSON). */
  readonly config: string;
  readonly dataDir: string;
  readonly storage?: string;
  readonly counters?: string;
  readonly logLevel?: string;
  readonly env?: Record<string, string>;
}

export async function startGatewayProcess(o: GatewayProcessOptions): Promise<GatewayProcess> {
  // Nothing from the runner's own PORTCULLIS_* environment leaks in.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
  const args = [
    bin, 'serve', '--config', o.config, '--data-dir', o.dataDir,
    '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--log-level', o.logLevel ?? 'info',
    ...(o.storage ? ['--storage', o.storage] : []),
    ...(o.counters ? ['--counters', o.counters] : []),
  ];
  const proc = spawn(process.execPath, args, {
    env: { ...clean, PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN, PORTCULLIS_MASTER_KEY: TEST_MASTER_KEY, ...o.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const [url, adminUrl] = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway in ${o.dataDir} did not start within 60 s:\n${stderr}`)), 60_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+) \(admin API on (http:\/\/[^,\s]+),/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        proc.stderr!.off('data', onData);
        proc.off('exit', onExit);
        resolve([m[1]!, m[2]!]);
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`gateway in ${o.dataDir} exited with ${code}:\n${stderr}`));
    };
    proc.stderr!.on('data', onData);
    proc.on('exit', onExit);
  });
  return {
    proc,
    url,
    adminUrl,
    stderr: () => stderr,
    logs: () =>
      stderr.split('\n').flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill(signal);
      await exited;
    },
  };
}
