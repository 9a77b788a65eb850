// Image build speed and memory on the big store fixture (about 1 GiB in 263 items). The
// `storepack build` command writes docker-archives, and each case has a tar pipeline over the same
// store paths as its baseline, measured in the same run with the page cache warm:
//   1. uncompressed, `-o -` to /dev/null, beside `tar -cf - PATHS | openssl dgst -sha256`;
//   2. uncompressed, to a file, beside `tar -cf - PATHS | tee FILE | openssl dgst -sha256`, and
//      beside the way of the original Guix `build-docker-image`, scripted with GNU tar: tar the
//      layer to a file, hash it, then tar the folder that contains it into the archive; GNU tar
//      writing the archive once, to a file, is timed beside them for reference;
//   3. gzip with an empty layer cache, beside `tar -cf - PATHS | pigz -p2 -6`;
//   4. zstd with an empty layer cache, beside `tar -cf - PATHS | zstd -3 -T2`; a docker-archive
//      takes no zstd layers, so this case writes an oci-archive;
//   5. the gzip build again after the root item changed, through the cache the first build
//      filled, beside that cold build;
//   6. the peak memory (max RSS) of every storepack run.
// Every timing is the median of BENCH_RUNS runs (5 by default), storepack and its baselines
// taking turns; both baselines of case 2 are set against the same storepack runs. A line under
// each case gives the lowest and highest single runs. Writes to a file vary the most: on the
// virtual machines this was measured on, the same write of 1 GiB took from 0.3 s to several
// seconds from one run to the next. Before each timed run, untimed, the outputs of the last one
// are removed and `sync` writes back its dirty pages, so that no run pays for the disk writes of
// another. Each line reports whether the ratio meets its target.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bigStoreRoot, median } from './big-store.mjs';

const cli = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../packages/cli/bin/storepack.js',
);
const runs = Number(process.env.BENCH_RUNS ?? 5);

const root = bigStoreRoot();
const paths = execFileSync('nix-store', ['--query', '--requisites', root], { encoding: 'utf8' })
  .trim()
  .split('\n');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'storepack-bench-build-'));

/** nix-build options for a build that runs no sandbox and downloads nothing. */
const OFFLINE_NIX_BUILD = ['--option', 'sandbox', 'false', '--option', 'substituters', ''];

/** Builds a new root item that refers to everything the fixture's root refers to. */
function changedRoot() {
  const expression = path.join(scratch, 'changed-root.nix');
  writeFileSync(
    expression,
    `derivation {
      name = "bench-changed-root";
      system = builtins.currentSystem;
      builder = "/bin/sh";
      args = [ "-c" "/bin/mkdir -p $out/nix-support && /bin/cp \${builtins.storePath ${JSON.stringify(root)}}/nix-support/depends $out/nix-support/ && echo ${Date.now()} > $out/changed" ];
    }`,
  );
  return execFileSync(
    'nix-build',
    [expression, ...OFFLINE_NIX_BUILD, '--out-link', path.join(scratch, 'changed-root')],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  ).trim();
}

/**
 * Runs a bash script, in which `"$@"` stands for the store paths, after removing the outputs of
 * earlier runs and syncing. Returns its seconds, and the max RSS that a storepack run recorded.
 */
function timeShell(script) {
  const rssFile = path.join(scratch, 'rss');
  rmSync(file, { force: true });
  rmSync(original, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
  execFileSync('sync');
  const start = performance.now();
  const run = spawnSync('bash', ['-c', `set -o pipefail; ${script}`, 'bench', ...paths], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RSS_FILE: rssFile },
  });
  const seconds = (performance.now() - start) / 1000;
  if (run.status !== 0) {
    throw new Error(`${script} failed: ${run.stderr}`);
  }
  const rssMiB = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8').trim()) / 1024 : 0;
  rmSync(rssFile, { force: true });
  return { seconds, rssMiB };
}

/** A bash command line that runs storepack with the arguments given, recording its max RSS. */
// The Node options on the command's `#!/usr/bin/env -S node …` line, which npm's and pnpm's
// launchers pass on as well, so that storepack runs here as it does when installed.
const nodeOptions = readFileSync(cli, 'utf8')
  .split('\n')[0]
  .replace(/^#!\/usr\/bin\/env (-S )?node/, '')
  .trim();
const storepack = (args) =>
  `/usr/bin/time -f %M -o "$RSS_FILE" ${process.execPath} ${nodeOptions} ${cli} build ${args}`;

const file = path.join(scratch, 'image.tar');
const original = path.join(scratch, 'original');
const cache = path.join(scratch, 'cache');
const cases = [
  {
    name: 'uncompressed, -o - to /dev/null',
    storepack: () => storepack(`${root} -o - > /dev/null`),
    baselines: [
      {
        command: 'tar -cf - "$@" | openssl dgst -sha256 > /dev/null',
        label: 'tar | openssl dgst',
        limit: 1.5,
      },
    ],
  },
  {
    name: 'uncompressed, to a file',
    storepack: () => storepack(`${root} -o ${file}`),
    baselines: [
      {
        command: `tar -cf - "$@" | tee ${file} | openssl dgst -sha256 > /dev/null`,
        label: 'tar | tee FILE | openssl dgst',
        limit: 1.2,
      },
      {
        command: `mkdir ${original} && tar -cf ${original}/layer.tar "$@" && openssl dgst -sha256 ${original}/layer.tar > /dev/null && tar -cf ${file} -C ${original} .`,
        label: "the original's way with GNU tar",
        limit: 1 / 3,
      },
      {
        // No target: how long one write of the archive takes without hashing or Node, for
        // comparison with the original's way, which writes it twice.
        command: `tar -cf ${file} "$@"`,
        label: 'GNU tar alone, to a file',
      },
    ],
  },
  {
    name: 'gzip, empty cache, -o -',
    storepack: () => storepack(`${root} --compress gzip --cache ${cache} -o - > /dev/null`),
    baselines: [
      {
        command: 'tar -cf - "$@" | pigz -p2 -6 > /dev/null',
        label: 'tar | pigz -p2 -6',
        limit: 1.2,
      },
    ],
  },
  {
    name: 'zstd oci-archive, empty cache',
    storepack: () =>
      storepack(`${root} --format oci-archive --compress zstd --cache ${cache} -o - > /dev/null`),
    baselines: [
      {
        command: 'tar -cf - "$@" | zstd -q -3 -T2 > /dev/null',
        label: 'tar | zstd -3 -T2',
        limit: 1.2,
      },
    ],
  },
];

/** Returns the lowest and highest of `seconds`, as `1.50–1.62 s`. */
const range = (seconds) =>
  `${Math.min(...seconds).toFixed(2)}–${Math.max(...seconds).toFixed(2)} s`;

const MEMORY_LIMIT_MIB = 150;
const verdict = (ratio, limit) => (ratio <= limit ? 'met' : 'NOT MET');
let peakRss = 0;

try {
  // Untimed: reads every file into the page cache and writes one archive, so that the first
  // timed run pays neither for the disk nor for the first use of free memory. The pipe matters:
  // GNU tar reads no file when its output is /dev/null.
  timeShell(`tar -cf - "$@" | tee ${file} > /dev/null`);
  console.log(`big store: ${paths.length} items, ${runs} runs each, medians`);
  console.log(
    'case                              storepack  baseline   ratio  target  peak RSS  baseline',
  );
  for (const { name, storepack: ours, baselines } of cases) {
    const oursSeconds = [];
    const theirsSeconds = baselines.map(() => []);
    let rss = 0;
    for (let run = 0; run < runs; run += 1) {
      const measured = timeShell(ours());
      oursSeconds.push(measured.seconds);
      rss = Math.max(rss, measured.rssMiB);
      for (const [index, { command }] of baselines.entries()) {
        theirsSeconds[index].push(timeShell(command).seconds);
      }
    }
    peakRss = Math.max(peakRss, rss);
    const a = median(oursSeconds);
    for (const [index, { label, limit }] of baselines.entries()) {
      const b = median(theirsSeconds[index]);
      const ratio = a / b;
      console.log(
        `${name.padEnd(32)} ${a.toFixed(2).padStart(8)} s ${b.toFixed(2).padStart(7)} s ${ratio.toFixed(2).padStart(6)}x ${(limit === undefined ? '-' : `≤${limit.toFixed(2)}`).padStart(7)} ${rss.toFixed(0).padStart(5)} MiB  ${label}: ${limit === undefined ? 'for reference' : verdict(ratio, limit)}`,
      );
    }
    // The spread of single runs shows how much of a ratio is the machine's noise.
    const spread = [oursSeconds, ...theirsSeconds].map(range).join(', ');
    console.log(`${''.padEnd(32)} single runs, storepack then each baseline: ${spread}`);
  }

  const changed = changedRoot();
  const cold = [];
  const warm = [];
  let rss = 0;
  for (let run = 0; run < runs; run += 1) {
    const rebuildCache = path.join(scratch, `rebuild-cache-${run}`);
    const first = timeShell(
      storepack(`${root} --compress gzip --cache ${rebuildCache} -o - > /dev/null`),
    );
    const second = timeShell(
      storepack(`${changed} --compress gzip --cache ${rebuildCache} -o - > /dev/null`),
    );
    cold.push(first.seconds);
    warm.push(second.seconds);
    rss = Math.max(rss, first.rssMiB, second.rssMiB);
    rmSync(rebuildCache, { recursive: true, force: true });
  }
  peakRss = Math.max(peakRss, rss);
  const ratio = median(warm) / median(cold);
  console.log(
    `gzip rebuild after the root changed: cold ${median(cold).toFixed(2)} s, warm cache ${median(warm).toFixed(2)} s, warm/cold ${ratio.toFixed(3)} (target at most 0.1: ${verdict(ratio, 0.1)}), peak RSS ${rss.toFixed(0)} MiB`,
  );
  console.log(
    `peak RSS of every storepack run: ${peakRss.toFixed(0)} MiB (target under ${MEMORY_LIMIT_MIB} MiB: ${peakRss < MEMORY_LIMIT_MIB ? 'met' : 'NOT MET'})`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
