#!/usr/bin/env node
// Runs every benchmark in this folder, one after another so that they do not compete for the
// machine's cores, and prints each one's report. `pnpm bench` builds the packages first.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const folder = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benchmarks = readdirSync(folder)
  .filter((name) => name.endsWith('.bench.mjs'))
  .filter((name) => only.length === 0 || only.some((word) => name.includes(word)))
  .sort();

let failed = 0;
for (const name of benchmarks) {
  process.stdout.write(`\n## ${name}\n\n`);
  const run = spawnSync(process.execPath, [join(folder, name)], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed += 1;
    process.stdout.write(`${name} failed with status ${run.status ?? run.signal}\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
