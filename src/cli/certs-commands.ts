// `portcullis certs dev`: a local CA, a server certificate (localhost, 127.0.0.1) and client certificates
// for trying HTTPS and mutual TLS without openssl, with the lines that trust and use them.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createCa, issueCertificate } from '../tls/dev-certs.ts';

export interface CertsIo {
  readonly out: (line?: string) => void;
}

export function registerCertsCommands(program: Command, io: CertsIo): void {
  const certs = program.command('certs').description('certificates for development');
  certs
    .command('dev')
    .description('create a local CA, a server certificate (localhost, 127.0.0.1) and client certificates in a directory')
    .option('--dir <dir>', 'output directory', '.portcullis/certs')
    .option('--name <host>', 'extra DNS name for the server certificate (repeatable)', collect, [] as string[])
    .option('--client <cn>', 'common name of a client certificate (repeatable; default "dev-client")', collect, [] as string[])
    .option('--force', 'overwrite existing files')
    .action(async (options: { dir: string; name: string[]; client: string[]; force?: boolean }) => {
      const dir = resolve(options.dir);
      if (!options.force && (await stat(join(dir, 'ca.pem')).catch(() => undefined))) {
        throw new Error(`${join(dir, 'ca.pem')} exists; pass --force to replace the development CA and its certificates`);
      }
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const written = await createDevCertificates(dir, options.name, options.client.length ? options.client : ['dev-client']);
      printGuide(io, dir, written.clients);
    });
}

export async function createDevCertificates(dir: string, names: readonly string[], clients: readonly string[]): Promise<{ clients: string[] }> {
  const ca = await createCa();
  const server = await issueCertificate(ca, {
    commonName: 'localhost',
    dnsNames: ['localhost', ...names],
    ips: ['127.0.0.1', '::1'],
    usage: 'server',
  });
  // Keys are private: owner-only permissions.
  const put = (name: string, text: string, key = false) => writeFile(join(dir, name), text, { mode: key ? 0o600 : 0o644 });
  await put('ca.pem', ca.cert);
  await put('ca-key.pem', ca.key, true);
  await put('server.pem', server.cert + ca.cert);
  await put('server-key.pem', server.key, true);
  const files: string[] = [];
  for (const cn of clients) {
    const safe = cn.replace(/[^A-Za-z0-9._-]/g, '_');
    const client = await issueCertificate(ca, { commonName: cn, usage: 'client', uris: [`spiffe://portcullis.dev/${safe}`] });
    await put(`client-${safe}.pem`, client.cert);
    await put(`client-${safe}-key.pem`, client.key, true);
    files.push(safe);
  }
  return { clients: files };
}

function printGuide(io: CertsIo, dir: string, clients: readonly string[]): void {
  const c = clients[0];
  io.out(`Development certificates written to ${dir}:`);
  io.out(`  ca.pem                  local CA (trust it; keep ca-key.pem private)`);
  io.out(`  server.pem, server-key.pem   for localhost and 127.0.0.1 (chain included)`);
  for (const name of clients) io.out(`  client-${name}.pem, client-${name}-key.pem   client certificate (SAN URI:spiffe://portcullis.dev/${name})`);
  io.out('');
  io.out('Add a custom domain to your definition:');
  io.out('  domains:');
  io.out('    - name: localhost');
  io.out(`      certificate: { cert: ${join(dir, 'server.pem')}, key: ${join(dir, 'server-key.pem')} }`);
  io.out('      basePathMappings: [{ api: YOUR_API, stage: YOUR_STAGE }]');
  io.out(`      mtls: { truststore: ${join(dir, 'ca.pem')}, mode: optional }   # optional: mutual TLS`);
  io.out('and start with: portcullis serve --config FILE --https-listen 127.0.0.1:8443');
  io.out('');
  io.out('Try it:');
  io.out(`  curl --cacert ${join(dir, 'ca.pem')} https://localhost:8443/YOUR_ROUTE`);
  io.out(`  curl --cacert ${join(dir, 'ca.pem')} --cert ${join(dir, `client-${c}.pem`)} --key ${join(dir, `client-${c}-key.pem`)} https://localhost:8443/YOUR_ROUTE`);
  io.out('');
  io.out('Trust the CA system-wide (optional, development machines only):');
  io.out(`  Debian/Ubuntu: sudo cp ${join(dir, 'ca.pem')} /usr/local/share/ca-certificates/portcullis-dev.crt && sudo update-ca-certificates`);
  io.out(`  macOS:         sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${join(dir, 'ca.pem')}`);
  io.out(`  Node.js:       export NODE_EXTRA_CA_CERTS=${join(dir, 'ca.pem')}`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
