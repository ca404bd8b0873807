#!/usr/bin/env node
// The `portcullis` command. Runs the bundled build (dist/portcullis.mjs: made by `npm install`, rebuilt
// here when a source file is newer) on plain node; runs the TypeScript sources through tsx instead when
// PORTCULLIS_FROM_SOURCE=1 or when the bundle cannot be built.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const bundle = `${root}dist/portcullis.mjs`;

function newestSourceMs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

async function loadMain() {
  if (process.env.PORTCULLIS_FROM_SOURCE !== '1') {
    try {
      const stale =
        !existsSync(bundle) ||
        Math.max(newestSourceMs(`${root}src`), statSync(`${root}package.json`).mtimeMs) > statSync(bundle).mtimeMs;
      if (stale) await (await import('../scripts/build.mjs')).buildBundle();
      return (await import(bundle)).main;
    } catch (err) {
      process.stderr.write(`portcullis: running from source (the bundle could not be built: ${err.message})\n`);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../src/cli/main.ts')).main;
}

const main = await loadMain();
process.exitCode = await main(process.argv);
