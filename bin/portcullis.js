#!/usr/bin/env node
// The `portcullis` command: registers tsx so the TypeScript sources run without a build step, then hands
// the command line to src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
// Imported after register(): a static import would be hoisted above it and load before tsx is ready.
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
