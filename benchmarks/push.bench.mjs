// Pushes the big-store image to a local distribution registry with `storepack push`, cold and
// then unchanged, beside `skopeo copy` of the same docker-archive into a fresh repository of the
// same registry, and prints each storepack time as a ratio to skopeo's. A third case pushes, into
// the same repository, the image of a copy of the closure in which one mid-level item was rebuilt.
// As in a real rebuild, that item and every item that refers to it, up to the root, get new store
// paths. Each round starts a new registry, so nothing of an earlier round is reused. The medians of
// the rounds are reported.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
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

/** Runs a command and returns its standard output and how long it took, in seconds. */
function timedRun(command, args) {
  const start = performance.now();
  const stdout = run(command, args);
  return { seconds: (performance.now() - start) / 1000, stdout };
}

function timed(command, args) {
  return timedRun(command, args).seconds;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function lines(text) {
  return text.split('\n').filter((line) => line !== '');
}

function gibibytes(bytes) {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function mebibytes(bytes) {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Returns how many layers a docker-archive has, from its manifest.json. */
function layerCount(archive) {
  const manifest = JSON.parse(run('tar', ['-xOf', archive, 'manifest.json']));
  return manifest[0].Layers.length;
}

/**
 * Builds a docker-archive with storepack's default layering, unless OUTPUT already is an archive
 * of several layers. A single-layer archive left by an older storepack is built again.
 */
function buildImage(output, args) {
  if (existsSync(output) && layerCount(output) > 1) {
    return;
  }
  console.log(`building ${output} with storepack build`);
  const partial = `${output}.partial`;
  run(process.execPath, [storepack, 'build', ...args, '-o', partial]);
  renameSync(partial, output);
}

const nixBase32 = '0123456789abcdfghijklmnpqrsvwxyz';

function hashPart(storePath) {
  return basename(storePath).slice(0, 32);
}

/** Derives the hash part a rebuilt item gets: 32 Nix base32 characters, the same on every run. */
function rebuiltHashPart(oldHashPart) {
  const digest = createHash('sha256').update(`rebuilt ${oldHashPart}`).digest();
  return Array.from(digest.subarray(0, 32), (byte) => nixBase32[byte % 32]).join('');
}

/**
 * Picks the item to rebuild: the one nearest the middle of the closure's order that has a
 * reference and a referrer inside the closure, so that it is neither a leaf nor the root.
 */
function pickRebuiltItem(closure, closureRoot) {
  const members = new Set(closure);
  const middle = Math.floor(closure.length / 2);
  for (let step = 0; step < closure.length; step += 1) {
    const item = closure[middle + (step % 2 === 0 ? step / 2 : -(step + 1) / 2)];
    if (item === undefined || item === closureRoot) {
      continue;
    }
    const others = (query) =>
      lines(run('nix-store', ['--query', query, item])).filter(
        (path) => path !== item && members.has(path),
      );
    if (others('--references').length > 0 && others('--referrers').length > 0) {
      return item;
    }
  }
  throw new Error(
    `picking an item to rebuild in ${closureRoot}: no item has a referrer and a reference`,
  );
}

/** Replaces every old hash part in BYTES by its new one, in place, and returns whether any matched. */
function replaceHashParts(bytes, renames) {
  let changed = false;
  for (const [oldHash, newHash] of renames) {
    for (let at = bytes.indexOf(oldHash); at !== -1; at = bytes.indexOf(oldHash, at + 32)) {
      bytes.write(newHash, at, 'latin1');
      changed = true;
    }
  }
  return changed;
}

/** Runs FN with the owner's write permission added to PATH, then restores its mode and times. */
function withWriteAccess(path, fn) {
  const before = lstatSync(path);
  chmodSync(path, before.mode | 0o200);
  try {
    fn();
  } finally {
    chmodSync(path, before.mode & 0o7777);
    utimesSync(path, before.atime, before.mtime);
  }
}

/**
 * Copies the closure of ROOT into a folder read as a `--root` store and rebuilds one item in it.
 * The item and its referrers, up to the root, get new hash parts. Every occurrence of their old
 * hash parts in file contents and symlink targets is replaced, byte for byte. Returns the folder
 * and the new root's store path. A finished copy is reused, because the result never varies.
 */
function rebuildOneItem(closure, closureRoot) {
  const item = pickRebuiltItem(closure, closureRoot);
  const members = new Set(closure);
  const affected = lines(run('nix-store', ['--query', '--referrers-closure', item])).filter(
    (path) => members.has(path),
  );
  const renames = new Map(
    affected.map((path) => [hashPart(path), rebuiltHashPart(hashPart(path))]),
  );
  const renamed = (path) =>
    (renames.get(hashPart(path)) ?? hashPart(path)) + basename(path).slice(32);
  const newRoot = join(dirname(closureRoot), renamed(closureRoot));
  const summary = { item, affected: affected.length, newRoot };

  const folder = join(work, `rebuilt-${hashPart(item)}`);
  const finished = join(folder, 'finished');
  if (existsSync(finished)) {
    return { folder, ...summary };
  }
  if (existsSync(folder)) {
    run('chmod', ['-R', 'u+w', folder]);
    rmSync(folder, { recursive: true });
  }
  console.log(`copying the closure into ${folder} and rebuilding ${basename(item)}`);
  const store = join(folder, dirname(closureRoot));
  mkdirSync(store, { recursive: true });
  run('cp', ['-a', ...closure, store]);
  for (const path of affected) {
    renameSync(join(store, basename(path)), join(store, renamed(path)));
  }

  // One GNU grep pass over all old hash parts finds the few files to rewrite. Its -r skips symlinks.
  const patterns = join(folder, 'old-hash-parts');
  writeFileSync(patterns, [...renames.keys(), ''].join('\n'));
  const grep = spawnSync('grep', ['-rlZF', '-f', patterns, store], {
    env: { ...process.env, LC_ALL: 'C' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (grep.status !== 0 && grep.status !== 1) {
    throw new Error(`searching ${store} for old hash parts failed:\n${grep.stderr}`);
  }
  for (const file of grep.stdout
    .toString('latin1')
    .split('\0')
    .filter((name) => name !== '')) {
    const bytes = readFileSync(file);
    if (replaceHashParts(bytes, renames)) {
      withWriteAccess(file, () => writeFileSync(file, bytes));
    }
  }

  for (const link of run('find', [store, '-type', 'l', '-print0']).split('\0')) {
    if (link === '') {
      continue;
    }
    const target = readlinkSync(link, { encoding: 'buffer' });
    if (replaceHashParts(target, renames)) {
      withWriteAccess(dirname(link), () => {
        unlinkSync(link);
        symlinkSync(target, link);
      });
    }
  }
  rmSync(patterns);
  writeFileSync(finished, `${newRoot}\n`);
  return { folder, ...summary };
}

// The fixture script builds the closure once and afterwards only prints its root.
const root = run('bash', [fixture]).trim().split('\n').pop();
const work = '/tmp/storepack-push-bench';
mkdirSync(work, { recursive: true });
const image = join(work, `${basename(root)}-layered.tar`);
buildImage(image, [root]);

const closure = lines(run('nix-store', ['--query', '--requisites', root]));
const rebuilt = rebuildOneItem(closure, root);
const rebuiltImage = join(work, `${basename(rebuilt.newRoot)}-layered.tar`);
buildImage(rebuiltImage, ['--root', rebuilt.folder, '--closure-from', 'scan', rebuilt.newRoot]);

console.log(`image: ${image}, ${gibibytes(statSync(image).size)}, ${layerCount(image)} layers`);
console.log(
  `rebuilt: ${basename(rebuilt.item)} and its ${rebuilt.affected - 1} referrers in the closure of ${closure.length} items get new store paths`,
);
console.log(
  `rebuilt image: ${rebuiltImage}, ${gibibytes(statSync(rebuiltImage).size)}, ${layerCount(rebuiltImage)} layers`,
);
console.log(`rounds: ${rounds}, on a shared 2-core machine, so medians are given\n`);

const times = {
  cold: [],
  unchanged: [],
  changed: [],
  skopeo: [],
  skopeoPreserve: [],
  skopeoChanged: [],
};
let upload;
for (let round = 1; round <= rounds; round += 1) {
  const registry = await startRegistry();
  try {
    const push = (archive, repository) => [
      storepack,
      'push',
      '--insecure-registry',
      registry.host,
      archive,
      `${registry.host}/${repository}:1`,
    ];
    times.cold.push(timed(process.execPath, push(image, 'storepack/big')));
    times.unchanged.push(timed(process.execPath, push(image, 'storepack/big')));
    const changed = timedRun(process.execPath, [...push(rebuiltImage, 'storepack/big'), '--json']);
    times.changed.push(changed.seconds);
    const blobs = JSON.parse(changed.stdout).blobs;
    const pushed = blobs.filter((blob) => blob.status === 'pushed');
    const bytes = (list) => list.reduce((sum, blob) => sum + blob.size, 0);
    upload = {
      pushed: pushed.length,
      pushedBytes: bytes(pushed),
      blobs: blobs.length,
      bytes: bytes(blobs),
    };

    // skopeo gzips uncompressed layers on the way to a registry unless digests must be kept.
    const copy = (archive, repository, extra) =>
      timed('skopeo', [
        'copy',
        '-q',
        ...extra,
        '--dest-tls-verify=false',
        `docker-archive:${archive}`,
        `docker://${registry.host}/${repository}:1`,
      ]);
    times.skopeo.push(copy(image, `skopeo/big-${round}`, []));
    times.skopeoPreserve.push(copy(image, `skopeo/preserved-${round}`, ['--preserve-digests']));
    // skopeo reuses the blobs it already sent to skopeo/big-N instead of uploading them again, so
    // this baseline too sends only what changed, although its repository is new.
    times.skopeoChanged.push(copy(rebuiltImage, `skopeo/rebuilt-${round}`, []));
  } finally {
    await registry.stop();
  }
  console.log(
    `round ${round}: storepack cold ${times.cold.at(-1).toFixed(2)} s, unchanged ${times.unchanged.at(-1).toFixed(2)} s, after one item changed ${times.changed.at(-1).toFixed(2)} s; skopeo ${times.skopeo.at(-1).toFixed(2)} s, with --preserve-digests ${times.skopeoPreserve.at(-1).toFixed(2)} s, of the rebuilt image ${times.skopeoChanged.at(-1).toFixed(2)} s`,
  );
}

const skopeo = median(times.skopeo);
const preserve = median(times.skopeoPreserve);
const skopeoChanged = median(times.skopeoChanged);
const cold = median(times.cold);
const unchanged = median(times.unchanged);
const changed = median(times.changed);
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
  `| skopeo copy of the rebuilt image (baseline) | ${skopeoChanged.toFixed(2)} | 1.00× | |`,
);
console.log(
  `| storepack push, after one item changed | ${changed.toFixed(2)} | ${(changed / skopeoChanged).toFixed(2)}× | |`,
);
console.log(
  `\nafter one item changed, storepack uploaded ${upload.pushed} of ${upload.blobs} blobs, ${mebibytes(upload.pushedBytes)} of ${mebibytes(upload.bytes)} (${((100 * upload.pushedBytes) / upload.bytes).toFixed(1)}%)`,
);
console.log(
  `goals: cold ≤ 1.0× skopeo copy (${cold <= skopeo ? 'met' : 'missed'}), unchanged under 2 s (${unchanged < 2 ? 'met' : 'missed'})`,
);
