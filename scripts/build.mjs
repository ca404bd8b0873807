#!/usr/bin/env node
// Bundles the TypeScript sources into dist/ with esbuild so `portcullis` runs on plain node: no loader
// thread (about 50 MB less resident memory) and a faster start. Code splitting keeps optional drivers
// (pg, ioredis) in chunks loaded only when configured. Runs on `npm install` (prepare) and from
// bin/portcullis.js when a source file is newer than the bundle.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const dist = `${root}dist`;

export async function buildBundle() {
  // Several processes may rebuild at once (tests, a cluster on one machine): build into a private
  // directory, move the content-hashed chunks first, and the entry last with one atomic rename.
  const tmp = `${dist}/.build-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    await build({
      entryPoints: { portcullis: `${root}src/cli/main.ts` },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      logLevel: 'warning',
      legalComments: 'none',
    });
    mkdirSync(`${dist}/chunks`, { recursive: true });
    for (const name of readdirSync(`${tmp}/chunks`)) renameSync(`${tmp}/chunks/${name}`, `${dist}/chunks/${name}`);
    renameSync(`${tmp}/portcullis.mjs`, `${dist}/portcullis.mjs`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return `${dist}/portcullis.mjs`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await buildBundle();
  process.stderr.write(`built ${out}\n`);
}
