// Layer build speed on the big store fixture (about 1 GiB in 263 items), each storepack case
// beside a tar pipeline over the same store paths, measured in the same run:
//   1. one uncompressed layer hashed and dropped, beside `tar -cf - PATHS | openssl dgst -sha256`;
//   2. one uncompressed layer written to a file, beside `tar -cf - PATHS | tee FILE | openssl ...`;
//   3. gzip: the layers of the default planner, two compressing at once, hashed and dropped,
//      beside `tar -cf - PATHS | pigz -p2 -6`;
//   4. zstd: the same layers, and one single layer, beside `tar -cf - PATHS | zstd -3 -T2`;
//   5. the gzip layers built through an empty layer cache, then again through the warm cache;
//   6. the peak memory (max RSS) of the child process that runs each storepack case.
// Every timing is the median of BENCH_RUNS runs (3 by default), with the page cache warm.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bigStoreRoot, median } from './big-store.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const layersModule = path.join(here, '../packages/layers/dist/index.js');
const closureModule = path.join(here, '../packages/closure/dist/index.js');
const runs = Number(process.env.BENCH_RUNS ?? 3);

const root = bigStoreRoot();
const { resolveClosure } = await import(closureModule);
const { planLayers, DEFAULT_PLANNER } = await import(layersModule);
const closure = await resolveClosure([root], { from: 'db' });
const paths = closure.items.map((item) => item.path);
const plan = planLayers(closure, { planner: DEFAULT_PLANNER });
const scratch = mkdtempSync(path.join(os.tmpdir(), 'storepack-bench-layers-'));

/** Runs `body` (an ES module body that sets `result`) in a child node and returns its JSON. */
function inChild(body) {
  const script = `
    const layers = await import(${JSON.stringify(layersModule)});
    const { pipeline } = await import('node:stream/promises');
    const { createWriteStream } = await import('node:fs');
    const paths = ${JSON.stringify(paths)};
    const plan = ${JSON.stringify(plan)};
    const drain = async (stream) => { for await (const _chunk of stream) {} };
    /** Runs job(item) for every item, two at a time. */
    const twoAtOnce = async (items, job) => {
      let next = 0;
      const worker = async () => { while (next < items.length) await job(items[next++]); };
      await Promise.all([worker(), worker()]);
    };
    const start = performance.now();
    let result = {};
    ${body}
    result.seconds = (performance.now() - start) / 1000;
    result.maxRssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(JSON.stringify(result));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output.trim().split('\n').at(-1));
}

/** Times a bash pipeline; `PATHS` in it stands for the store paths. */
function timeShell(pipelineText) {
  const start = performance.now();
  const run = spawnSync('bash', ['-c', `set -o pipefail; ${pipelineText}`, 'bench', ...paths], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (run.status !== 0) throw new Error(`${pipelineText} failed: ${run.stderr}`);
  return (performance.now() - start) / 1000;
}

const single = `const layer = await layers.prepareLayer({ storeDir: '/nix/store', storePaths: paths });`;
const compressPlanned = (compression) => `
  await twoAtOnce(plan, async (storePaths) => {
    const layer = await layers.prepareLayer({ storeDir: '/nix/store', storePaths });
    const compressed = layers.compressLayer(layer, '${compression}');
    await drain(compressed.createStream());
    compressed.digest();
  });`;
const file = path.join(scratch, 'layer.tar');
const cases = [
  {
    name: 'uncompressed, dropped',
    storepack: `${single} await drain(layer.createStream()); layer.diffId();`,
    baseline: ['tar -cf - "$@" | openssl dgst -sha256', 'tar | openssl dgst'],
  },
  {
    name: 'uncompressed, to a file',
    storepack: `${single} await pipeline(layer.createStream(), createWriteStream(${JSON.stringify(file)})); layer.diffId();`,
    baseline: [`tar -cf - "$@" | tee ${file} | openssl dgst -sha256`, 'tar | tee | openssl dgst'],
  },
  {
    name: `gzip, ${plan.length} layers, 2 at once`,
    storepack: compressPlanned('gzip'),
    baseline: ['tar -cf - "$@" | pigz -p2 -6 > /dev/null', 'tar | pigz -p2 -6'],
  },
  {
    name: `zstd, ${plan.length} layers, 2 at once`,
    storepack: compressPlanned('zstd'),
    baseline: ['tar -cf - "$@" | zstd -q -3 -T2 > /dev/null', 'tar | zstd -3 -T2'],
  },
  {
    name: 'zstd, one layer',
    storepack: `${single} const compressed = layers.compressLayer(layer, 'zstd'); await drain(compressed.createStream()); compressed.digest();`,
    baseline: ['tar -cf - "$@" | zstd -q -3 -T2 > /dev/null', 'tar | zstd -3 -T2'],
  },
];

try {
  // Untimed, to fill the page cache. The pipe matters: GNU tar reads no file when its output is
  // /dev/null.
  timeShell('tar -cf - "$@" | cat > /dev/null');
  console.log(
    `big store: ${paths.length} items in ${plan.length} layers (${DEFAULT_PLANNER}), ${runs} runs each, medians`,
  );
  console.log(
    'case                              storepack  baseline   ratio  peak RSS  baseline command',
  );
  for (const { name, storepack, baseline } of cases) {
    const ours = [];
    let rss = 0;
    const theirs = [];
    for (let run = 0; run < runs; run += 1) {
      const child = inChild(storepack);
      ours.push(child.seconds);
      rss = Math.max(rss, child.maxRssMiB);
      theirs.push(timeShell(baseline[0]));
    }
    const [a, b] = [median(ours), median(theirs)];
    console.log(
      `${name.padEnd(32)} ${a.toFixed(2).padStart(8)} s ${b.toFixed(2).padStart(7)} s ${(a / b).toFixed(2).padStart(6)}x ${rss.toFixed(0).padStart(5)} MiB  ${baseline[1]}`,
    );
  }

  const cold = [];
  const warm = [];
  let rss = 0;
  for (let run = 0; run < runs; run += 1) {
    const cacheDir = path.join(scratch, `cache-${run}`);
    const build = `
      const cache = new layers.LayerCache({ dir: ${JSON.stringify(cacheDir)} });
      const sources = plan.map((storePaths) => ({ storeDir: '/nix/store', storePaths }));
      await layers.buildLayers(sources, { compression: 'gzip', cache, concurrency: 2 });`;
    const first = inChild(build);
    const second = inChild(build);
    cold.push(first.seconds);
    warm.push(second.seconds);
    rss = Math.max(rss, first.maxRssMiB, second.maxRssMiB);
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const [coldSeconds, warmSeconds] = [median(cold), median(warm)];
  console.log(
    `gzip layers through the cache: cold ${coldSeconds.toFixed(2)} s, warm ${warmSeconds.toFixed(2)} s, warm/cold ${(warmSeconds / coldSeconds).toFixed(3)} (target at most 0.1), peak RSS ${rss.toFixed(0)} MiB`,
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
