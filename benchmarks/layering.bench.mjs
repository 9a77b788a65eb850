// Layering benchmark: how many bytes each layer planner makes an image re-upload after a change.
//   1. For a closure and the same closure after one mid-level item changed, the bytes in the
//      second image's layers that the first image does not have. The changed item and every item
//      that refers to it, directly or not, get new store paths. A layer is known by its set of store paths, and its
//      bytes are the NAR sizes of its items. Reported for one mid-level item and as the mean over
//      every mid-level item (one with references and referrers), with the popularity planner as
//      the baseline.
//   2. Two images that share most of their closure: the big store's root, and a root that refers
//      to nine in ten of its references. How many layers, and bytes, the second shares.
//   3. How long each planner takes on large generated closures of shapes that are hard for the
//      churn planner: thousands of items that refer only to the top of a chain, with no NAR
//      sizes, and a dense graph.
// Closures: the big store fixture's graph (from its store database) and generated graphs.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const layers = await import(path.join(here, '../packages/layers/dist/index.js'));
const closureModule = path.join(here, '../packages/closure/dist/index.js');
const bigStoreScript = path.join(here, '../../shared/fixtures/big-store.sh');
const PLANNERS = ['single', 'popularity', layers.DEFAULT_PLANNER];
const MAX_LAYERS = 100;
const SAMPLE = 40;

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Gives `changed` and every item that refers to it, directly or not, a new store path. */
function renameWithReferrers(closure, changed) {
  const referrers = new Map(closure.items.map((item) => [item.path, []]));
  for (const item of closure.items) {
    for (const reference of item.references) {
      if (reference !== item.path) referrers.get(reference).push(item.path);
    }
  }
  const renamed = new Set([changed]);
  const pending = [changed];
  while (pending.length > 0) {
    for (const referrer of referrers.get(pending.pop())) {
      if (!renamed.has(referrer)) {
        renamed.add(referrer);
        pending.push(referrer);
      }
    }
  }
  const rename = (p) => (renamed.has(p) ? `${p}-changed` : p);
  return {
    roots: closure.roots.map(rename),
    items: closure.items.map((item) => ({
      ...item,
      path: rename(item.path),
      references: item.references.map(rename),
    })),
  };
}

const layerKey = (layer) => layer.join('\n');

/** Bytes of the layers of `after` whose store path set `before` lacks. */
function newBytes(before, after, sizes) {
  const known = new Set(before.map(layerKey));
  let bytes = 0;
  for (const layer of after) {
    if (!known.has(layerKey(layer))) {
      for (const p of layer) bytes += sizes.get(p.replace(/-changed$/, '')) ?? 0;
    }
  }
  return bytes;
}

/** Items with both references and referrers, evenly sampled, in path order. */
function midLevelItems(closure) {
  const referred = new Set();
  for (const item of closure.items) {
    for (const reference of item.references) if (reference !== item.path) referred.add(reference);
  }
  const mid = closure.items
    .filter((item) => referred.has(item.path) && item.references.some((r) => r !== item.path))
    .map((item) => item.path)
    .sort();
  if (mid.length <= SAMPLE) return mid;
  return Array.from({ length: SAMPLE }, (_, i) => mid[Math.floor((i * mid.length) / SAMPLE)]);
}

function reportChange(name, closure) {
  const sizes = new Map(closure.items.map((item) => [item.path, item.narSize ?? 0]));
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const mid = midLevelItems(closure);
  // The single changed item: the middle one of the sample.
  const example = mid[Math.floor(mid.length / 2)];
  console.log(
    `\n${name}: ${closure.items.length} items, ${mib(total)}, ${mid.length} mid-level items sampled, max ${MAX_LAYERS} layers`,
  );
  console.log('planner     layers  one change  mean of sample  planning');
  const results = {};
  for (const planner of PLANNERS) {
    const start = performance.now();
    const before = layers.planLayers(closure, { planner, maxLayers: MAX_LAYERS });
    const planSeconds = (performance.now() - start) / 1000;
    const rebuilt = (changed) =>
      newBytes(
        before,
        layers.planLayers(renameWithReferrers(closure, changed), {
          planner,
          maxLayers: MAX_LAYERS,
        }),
        sizes,
      );
    const one = rebuilt(example);
    const mean = mid.map(rebuilt).reduce((a, b) => a + b, 0) / mid.length;
    results[planner] = { one, mean };
    console.log(
      `${planner.padEnd(11)} ${String(before.length).padStart(6)}  ${mib(one).padStart(10)}  ${mib(mean).padStart(14)}  ${planSeconds.toFixed(2)} s`,
    );
  }
  const ours = results[layers.DEFAULT_PLANNER];
  console.log(
    `${layers.DEFAULT_PLANNER}/popularity re-upload ratio: one change ${(ours.one / results.popularity.one).toFixed(3)}, mean ${(ours.mean / results.popularity.mean).toFixed(3)}`,
  );
}

/** Builds a closure whose root refers to all but every tenth of the first root's references. */
function siblingClosure(closure) {
  const byPath = new Map(closure.items.map((item) => [item.path, item]));
  const root = byPath.get(closure.roots[0]);
  const kept = root.references.filter((r, index) => r !== root.path && index % 10 !== 3);
  const newRoot = { path: `${root.path}-sibling`, references: kept, narSize: root.narSize };
  const reachable = new Set();
  const pending = [...kept];
  while (pending.length > 0) {
    const p = pending.pop();
    if (!reachable.has(p)) {
      reachable.add(p);
      pending.push(...byPath.get(p).references);
    }
  }
  return {
    roots: [newRoot.path],
    items: [newRoot, ...closure.items.filter((item) => reachable.has(item.path))],
  };
}

function reportSharing(name, closure) {
  const sibling = siblingClosure(closure);
  const sizes = new Map(
    [...closure.items, ...sibling.items].map((item) => [item.path, item.narSize ?? 0]),
  );
  console.log(
    `\n${name}: second image shares ${sibling.items.length - 1} of its ${sibling.items.length} items with the first`,
  );
  console.log('planner     shared layers  shared bytes of second image');
  for (const planner of PLANNERS) {
    const first = layers.planLayers(closure, { planner, maxLayers: MAX_LAYERS });
    const second = layers.planLayers(sibling, { planner, maxLayers: MAX_LAYERS });
    const known = new Set(first.map(layerKey));
    const shared = second.filter((layer) => known.has(layerKey(layer)));
    const sharedBytes = shared.flat().reduce((sum, p) => sum + sizes.get(p), 0);
    const allBytes = second.flat().reduce((sum, p) => sum + sizes.get(p), 0);
    console.log(
      `${planner.padEnd(11)} ${`${shared.length}/${second.length}`.padStart(13)}  ${mib(sharedBytes)} of ${mib(allBytes)} (${((100 * sharedBytes) / allBytes).toFixed(0)} %)`,
    );
  }
}

/** Generates a random graph: items refer to a few items below them, popular low items more often. */
function generatedClosure(count, seed) {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const name = (i) => `/nix/store/${String(i).padStart(32, 'g')}-item-${i}`;
  const items = [];
  for (let i = 0; i < count; i += 1) {
    const references = new Set();
    const fanOut = i === 0 ? 0 : 1 + Math.floor(random() * Math.min(i, 6));
    for (let k = 0; k < fanOut; k += 1) references.add(name(Math.floor(random() ** 2 * i)));
    // Log-normal-like sizes from 4 KiB to about 200 MiB.
    items.push({
      path: name(i),
      references: [...references],
      narSize: Math.floor(4096 * Math.exp(random() * 10.8)),
    });
  }
  const root = {
    path: name(count),
    references: items.slice(-Math.ceil(count / 5)).map((item) => item.path),
    narSize: 4096,
  };
  return { roots: [root.path], items: [...items, root] };
}

for (const [count, seed] of [
  [200, 1],
  [500, 2],
  [1000, 3],
  [3000, 4],
]) {
  const closure = generatedClosure(count, seed);
  reportChange(`generated graph ${count} (seed ${seed})`, closure);
  reportSharing(`generated graph ${count} (seed ${seed})`, closure);
}

/** Generates `count` items that refer only to the top of a chain of `depth` items, and a root over them. */
function hubClosure(count, depth) {
  const name = (i) => `/nix/store/${String(i).padStart(32, 'h')}-item-${i}`;
  const items = [];
  for (let i = 0; i < depth; i += 1) {
    items.push({ path: name(i), references: i === 0 ? [] : [name(i - 1)] });
  }
  for (let i = depth; i < count - 1; i += 1) {
    items.push({ path: name(i), references: [name(depth - 1)] });
  }
  const leaves = items.slice(depth).map((item) => item.path);
  items.push({ path: name(count - 1), references: leaves });
  return { roots: [name(count - 1)], items };
}

/** Generates `count` items, each referring to the `fanOut` items just below it. */
function denseClosure(count, fanOut) {
  const name = (i) => `/nix/store/${String(i).padStart(32, 'd')}-item-${i}`;
  const items = [];
  for (let i = 0; i < count; i += 1) {
    const references = [];
    for (let j = Math.max(0, i - fanOut); j < i; j += 1) references.push(name(j));
    items.push({ path: name(i), references, narSize: 4096 + ((i * 7919) % 100_000) });
  }
  return { roots: [name(count - 1)], items };
}

console.log('\nplanning time, large closures');
console.log('closure                                     items  references  popularity    churn');
for (const [label, closure] of [
  ['6000 items over a 300-item chain, no sizes', hubClosure(6000, 300)],
  ['6000 items over a 700-item chain, no sizes', hubClosure(6000, 700)],
  ['6000 items, 100 references each', denseClosure(6000, 100)],
  ['generated graph 10000 (seed 5)', generatedClosure(10_000, 5)],
]) {
  const references = closure.items.reduce((sum, item) => sum + item.references.length, 0);
  const seconds = {};
  for (const planner of ['popularity', 'churn']) {
    const start = performance.now();
    layers.planLayers(closure, { planner, maxLayers: MAX_LAYERS });
    seconds[planner] = (performance.now() - start) / 1000;
  }
  console.log(
    `${label.padEnd(43)} ${String(closure.items.length).padStart(6)}  ${String(references).padStart(10)}  ${seconds.popularity.toFixed(2).padStart(8)} s  ${seconds.churn.toFixed(2).padStart(5)} s`,
  );
}

if (!existsSync(bigStoreScript)) {
  console.log(
    `\nbig store: skipped, ${bigStoreScript} is missing (it exists only beside the developers' checkout)`,
  );
} else {
  const root = execFileSync('bash', [bigStoreScript], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
  const { resolveClosure } = await import(closureModule);
  const closure = await resolveClosure([root], { from: 'db' });
  reportChange('big store', closure);
  reportSharing('big store', closure);
}
