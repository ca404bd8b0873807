// `npm start`: the demo upstream on 127.0.0.1:3000 and a gateway on examples/pets.yaml with the
// embedded SQLite store under .portcullis/, in one process. Ctrl-C drains and exits.
import { startDemoUpstream } from '../examples/demo-upstream.ts';
import { startGateway } from '../src/server/start.ts';

const root = new URL('..', import.meta.url).pathname;
const upstream = await startDemoUpstream(Number(process.env.DEMO_UPSTREAM_PORT ?? 3000));
process.stderr.write(`Demo upstream (pets service) on ${upstream.url}\n`);
try {
  await startGateway({
    configFile: `${root}examples/pets.yaml`,
    dataDir: `${root}.portcullis`,
    env: process.env,
    handleSignals: true,
  });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  await upstream.close();
  process.exit(1);
}
