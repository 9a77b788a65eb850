// Closure benchmarks, each beside a baseline measured in the same run:
//   1. the closure of a generated store of 10,000 items from its database, beside spawning
//      `nix-store --query --requisites` on the same store;
//   2. a reference scan of the big store fixture, beside `cat FILES | openssl dgst -sha256` over
//      the same bytes, with the page cache warm;
//   3. the peak memory (max RSS) of a child process that runs each of them.
// Every timing is the median of several runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const closureModule = path.join(here, '../packages/closure/dist/index.js');
const testUtils = path.join(here, '../packages/test-utils/dist/index.js');
const storepack = path.join(here, '../packages/cli/bin/storepack.js');
const bigStoreScript = path.join(here, '../../shared/fixtures/big-store.sh');
const runs = 5;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (value) => `${value.toFixed(3)} s`;

/** Runs `code` (an ES module body that sets `result`) in a child node and returns its JSON. */
function inChild(code) {
  const script = `${code}\nresult.maxRssMiB = process.resourceUsage().maxRSS / 1024;\nconsole.log(JSON.stringify(result));`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(output.trim().split('\n').at(-1));
}

function timeSpawn(command, args, options = {}) {
  const start = performance.now();
  const run = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  if (run.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr}`);
  }
  return (performance.now() - start) / 1000;
}

// 1. Database closure of 10,000 items.
const { generateStore } = await import(testUtils);
const scratch = mkdtempSync(path.join(os.tmpdir(), 'storepack-bench-closure-'));
try {
  const store = await generateStore({ root: path.join(scratch, 'root'), count: 10_000 });
  const databaseRuns = inChild(`
    const { resolveClosure } = await import(${JSON.stringify(closureModule)});
    const times = [];
    let items = 0;
    for (let run = 0; run < ${runs}; run += 1) {
      const start = performance.now();
      const closure = await resolveClosure([${JSON.stringify(store.rootItem)}], { from: 'db', root: ${JSON.stringify(store.root)} });
      times.push((performance.now() - start) / 1000);
      items = closure.items.length;
    }
    const result = { times, items };
  `);
  const nixTimes = Array.from({ length: runs }, () =>
    timeSpawn('nix-store', ['--store', store.storeUri, '--query', '--requisites', store.rootItem]),
  );
  const cliTimes = Array.from({ length: runs }, () =>
    timeSpawn(process.execPath, [
      storepack,
      'closure',
      '--closure-from',
      'db',
      '--root',
      store.root,
      store.rootItem,
    ]),
  );
  const database = median(databaseRuns.times);
  const nix = median(nixTimes);
  console.log(
    `database closure of ${databaseRuns.items} items (generated store of 10,000), median of ${runs}:`,
  );
  console.log(`  storepack resolveClosure (from: 'db')  ${seconds(database)}   goal < 0.300 s`);
  console.log(`  storepack closure (spawned, with node)  ${seconds(median(cliTimes))}`);
  console.log(`  nix-store --query --requisites          ${seconds(nix)}`);
  console.log(`  ratio nix-store / storepack             ${(nix / database).toFixed(2)}x`);
  console.log(`  max RSS of the child                    ${databaseRuns.maxRssMiB.toFixed(0)} MiB`);
} finally {
  execFileSync('chmod', ['-R', 'u+w', scratch]);
  rmSync(scratch, { recursive: true, force: true });
}

// 2. and 3. Scan throughput and memory on the big store fixture.
if (!existsSync(bigStoreScript)) {
  console.log(
    `\nskipping the scan benchmark: ${bigStoreScript} is missing (it exists only beside a developer's checkout)`,
  );
  process.exit(0);
}
const bigRoot = execFileSync('bash', [bigStoreScript], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();
const requisites = execFileSync('nix-store', ['--query', '--requisites', bigRoot], {
  encoding: 'utf8',
})
  .trim()
  .split('\n');

// The files whose bytes the scan reads: every regular file of the closure.
const files = [];
let bytes = 0;
const walk = (file) => {
  const stats = lstatSync(file);
  if (stats.isDirectory()) {
    for (const name of readdirSync(file).sort()) walk(path.join(file, name));
  } else if (stats.isFile()) {
    files.push(file);
    bytes += stats.size;
  }
};
for (const item of requisites) walk(item);
const listFile = path.join(os.tmpdir(), `storepack-bench-files-${process.pid}`);
writeFileSync(listFile, files.map((file) => `${file}\0`).join(''));

try {
  const hashBaseline = () =>
    timeSpawn('sh', [
      '-c',
      'xargs -0 cat < "$1" | openssl dgst -sha256 > /dev/null',
      'sh',
      listFile,
    ]);
  hashBaseline(); // warm the page cache
  const scanRuns = inChild(`
    const { resolveClosure } = await import(${JSON.stringify(closureModule)});
    const times = [];
    let items = 0;
    for (let run = 0; run < 3; run += 1) {
      const start = performance.now();
      const closure = await resolveClosure([${JSON.stringify(bigRoot)}], { from: 'scan' });
      times.push((performance.now() - start) / 1000);
      items = closure.items.length;
    }
    const result = { times, items };
  `);
  const hashTimes = Array.from({ length: 3 }, hashBaseline);
  const scan = median(scanRuns.times);
  const hash = median(hashTimes);
  const mib = bytes / 2 ** 20;
  console.log(
    `\nscan of the big store: ${scanRuns.items} items, ${files.length} files, ${mib.toFixed(0)} MiB, page cache warm, median of 3:`,
  );
  console.log(
    `  storepack resolveClosure (from: 'scan')  ${seconds(scan)}  ${(mib / scan).toFixed(0)} MiB/s`,
  );
  console.log(
    `  cat FILES | openssl dgst -sha256         ${seconds(hash)}  ${(mib / hash).toFixed(0)} MiB/s`,
  );
  console.log(
    `  speed ratio storepack / baseline         ${(hash / scan).toFixed(2)}   goal >= 0.80`,
  );
  console.log(
    `  max RSS of the scanning child            ${scanRuns.maxRssMiB.toFixed(0)} MiB   goal < 200 MiB`,
  );
} finally {
  rmSync(listFile, { force: true });
}
