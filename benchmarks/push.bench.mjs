// Pushes the big-store image to a local distribution registry with `storepack push`, cold and
// then unchanged, beside `skopeo copy` of the same docker-archive into a fresh repository of the
// same registry, and prints each storepack time as a ratio to skopeo's. Each round starts a new
// registry, so nothing of an earlier round is reused; the medians of the rounds are reported.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../packages/test-utils/dist/index.js';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const fixture = join(repo, '..', 'shared', 'fixtures', 'big-store.sh');
const storepack = join(repo, 'packages', 'cli', 'bin', 'storepack.js');
const rounds = Number(process.env.PUSH_BENCH_ROUNDS ?? 3);

if (!existsSync(fixture)) {
  console.log(`skipped: ${fixture} is missing, so the big store cannot be built`);
  process.exit(0);
}
for (const tool of ['skopeo', 'docker-registry']) {
  if (spawnSync(tool, ['--version']).error !== undefined) {
    console.log(
      `skipped: ${tool} is not installed (Debian: apt-get install skopeo docker-registry)`,
    );
    process.exit(0);
  }
}

/** Runs a command, failing the benchmark with its standard error when it fails. */
function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  }
  return result.stdout;
}

function timed(command, args) {
  const start = performance.now();
  run(command, args);
  return (performance.now() - start) / 1000;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// The fixture script builds the closure once and afterwards only prints its root.
const root = run('bash', [fixture]).trim().split('\n').pop();
const work = '/tmp/storepack-push-bench';
mkdirSync(work, { recursive: true });
const image = join(work, `${root.split('/').pop()}.tar`);
if (!existsSync(image)) {
  console.log(`building ${image} with storepack build`);
  run(process.execPath, [storepack, 'build', root, '-o', image]);
}
console.log(`image: ${image}, ${(statSync(image).size / 1024 ** 3).toFixed(2)} GiB`);
console.log(`rounds: ${rounds}, on a shared 2-core machine, so medians are given\n`);

const times = { cold: [], unchanged: [], skopeo: [], skopeoPreserve: [] };
for (let round = 1; round <= rounds; round += 1) {
  const registry = await startRegistry();
  try {
    const push = (repository) => [
      storepack,
      'push',
      '--insecure-registry',
      registry.host,
      image,
      `${registry.host}/${repository}:1`,
    ];
    times.cold.push(timed(process.execPath, push('storepack/big')));
    times.unchanged.push(timed(process.execPath, push('storepack/big')));
    // skopeo gzips uncompressed layers on the way to a registry unless digests must be kept.
    const copy = (repository, extra) =>
      timed('skopeo', [
        'copy',
        '-q',
        ...extra,
        '--dest-tls-verify=false',
        `docker-archive:${image}`,
        `docker://${registry.host}/${repository}:1`,
      ]);
    times.skopeo.push(copy(`skopeo/big-${round}`, []));
    times.skopeoPreserve.push(copy(`skopeo/preserved-${round}`, ['--preserve-digests']));
  } finally {
    await registry.stop();
  }
  console.log(
    `round ${round}: storepack cold ${times.cold.at(-1).toFixed(2)} s, unchanged ${times.unchanged.at(-1).toFixed(2)} s; skopeo ${times.skopeo.at(-1).toFixed(2)} s, with --preserve-digests ${times.skopeoPreserve.at(-1).toFixed(2)} s`,
  );
}

const skopeo = median(times.skopeo);
const preserve = median(times.skopeoPreserve);
const cold = median(times.cold);
const unchanged = median(times.unchanged);
console.log('\n| push | median s | vs skopeo copy | vs skopeo --preserve-digests |');
console.log('| --- | --- | --- | --- |');
console.log(`| skopeo copy (baseline) | ${skopeo.toFixed(2)} | 1.00× | |`);
console.log(
  `| skopeo copy --preserve-digests | ${preserve.toFixed(2)} | ${(preserve / skopeo).toFixed(2)}× | 1.00× |`,
);
console.log(
  `| storepack push, cold | ${cold.toFixed(2)} | ${(cold / skopeo).toFixed(2)}× | ${(cold / preserve).toFixed(2)}× |`,
);
console.log(
  `| storepack push, unchanged | ${unchanged.toFixed(2)} | ${(unchanged / skopeo).toFixed(2)}× | ${(unchanged / preserve).toFixed(2)}× |`,
);
console.log(
  `\ngoals: cold ≤ 1.0× skopeo copy (${cold <= skopeo ? 'met' : 'missed'}), unchanged under 2 s (${unchanged < 2 ? 'met' : 'missed'})`,
);
