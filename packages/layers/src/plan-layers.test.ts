import { describe, expect, it } from 'vitest';
import type { ClosureGraph, ClosureGraphItem } from './closure-graph.js';
import { LayerError } from './errors.js';
import {
  DEFAULT_PLANNER,
  PLANNER_NAMES,
  type PlanLayersOptions,
  type PlannerName,
  planLayers,
} from './plan-layers.js';

const store = (name: string) => `/nix/store/${name.padEnd(32, '0').slice(0, 32)}-${name}`;

/** Builds a closure from `name: [references]` with NAR sizes from `sizes` (1000 by default). */
function closureOf(
  graph: Record<string, string[]>,
  roots: string[],
  sizes: Record<string, number> = {},
): ClosureGraph {
  const items: ClosureGraphItem[] = Object.entries(graph).map(([name, references]) => ({
    path: store(name),
    references: references.map(store),
    narSize: sizes[name] ?? 1000,
  }));
  return { items, roots: roots.map(store) };
}

/** A deterministic pseudo-random closure: `count` items, each referring to a few earlier ones. */
function generatedClosure(count: number, seed: number): ClosureGraph {
  let state = seed;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const items: ClosureGraphItem[] = [];
  for (let index = 0; index < count; index++) {
    const references = new Set<string>();
    const fanOut = index === 0 ? 0 : 1 + Math.floor(random() * Math.min(index, 5));
    for (let k = 0; k < fanOut; k++) {
      references.add(store(`item${Math.floor(random() ** 2 * index)}`));
    }
    items.push({
      path: store(`item${index}`),
      references: [...references],
      narSize: Math.floor(1000 * Math.exp(random() * 10)),
    });
  }
  return { items, roots: [store(`item${count - 1}`)] };
}

// glibc is referred to by three items, zlib by two, openssl by one; curl is the root.
const SMALL = closureOf(
  {
    curl: ['curl', 'openssl', 'zlib', 'glibc'],
    openssl: ['zlib', 'glibc'],
    zlib: ['glibc'],
    glibc: ['glibc'],
  },
  ['curl'],
);

describe('planLayers', () => {
  it.each(PLANNER_NAMES)('%s puts every item in exactly one layer', (planner) => {
    const closure = generatedClosure(300, 7);

    const plan = planLayers(closure, { planner, maxLayers: 40 });

    const all = plan.flat();
    expect(all).toHaveLength(300);
    expect(new Set(all).size).toBe(300);
    expect(plan.length).toBeLessThanOrEqual(40);
    for (const layer of plan) {
      expect(layer.length).toBeGreaterThan(0);
      expect(layer).toEqual([...layer].sort());
    }
  });

  it.each(PLANNER_NAMES)('%s ignores the order of items and references', (planner) => {
    const closure = generatedClosure(200, 11);
    const shuffled = reversed(closure);

    expect(planLayers(shuffled, { planner, maxLayers: 30 })).toEqual(
      planLayers(closure, { planner, maxLayers: 30 }),
    );
  });

  it('plans no layer for an empty closure', () => {
    expect(planLayers({ items: [], roots: [] }, { planner: 'single' })).toEqual([]);
    expect(planLayers({ items: [], roots: [] }, { planner: 'popularity' })).toEqual([]);
    expect(planLayers({ items: [], roots: [] }, { planner: 'churn' })).toEqual([]);
  });

  it('single puts everything in one sorted layer', () => {
    expect(planLayers(SMALL, { planner: 'single' })).toEqual([
      [store('curl'), store('glibc'), store('openssl'), store('zlib')],
    ]);
  });

  it('popularity ranks by referrers, self-references excluded', () => {
    expect(planLayers(SMALL, { planner: 'popularity', maxLayers: 3 })).toEqual([
      [store('glibc')],
      [store('zlib')],
      [store('curl'), store('openssl')],
    ]);
  });

  it('popularity breaks ties by path', () => {
    const closure = closureOf({ root: ['b', 'a', 'c'], a: [], b: [], c: [] }, ['root']);

    expect(planLayers(closure, { planner: 'popularity', maxLayers: 3 })).toEqual([
      [store('a')],
      [store('b')],
      [store('c'), store('root')],
    ]);
  });

  it('popularity gives each item a layer when the limit allows', () => {
    expect(planLayers(SMALL, { planner: 'popularity', maxLayers: 4 })).toEqual([
      [store('glibc')],
      [store('zlib')],
      [store('openssl')],
      [store('curl')],
    ]);
  });

  it.each(PLANNER_NAMES)('%s makes one layer when maxLayers is 1', (planner) => {
    expect(planLayers(SMALL, { planner, maxLayers: 1 })).toEqual([
      [store('curl'), store('glibc'), store('openssl'), store('zlib')],
    ]);
  });

  it('churn keeps a large item alone and groups the items that change together', () => {
    // app and its plugins change whenever lib does; data never changes and is large.
    const closure = closureOf(
      {
        app: ['plugin1', 'plugin2', 'lib', 'data'],
        plugin1: ['lib'],
        plugin2: ['lib'],
        lib: [],
        data: [],
      },
      ['app'],
      { data: 1_000_000, lib: 10_000 },
    );

    const plan = planLayers(closure, { planner: 'churn', maxLayers: 3 });

    expect(plan).toContainEqual([store('data')]);
    expect(plan).toContainEqual([store('lib')]);
    expect(plan).toContainEqual([store('app'), store('plugin1'), store('plugin2')]);
  });

  it('churn orders layers from the least to the most often rebuilt', () => {
    const plan = planLayers(SMALL, { planner: 'churn', maxLayers: 4 });

    expect(plan).toEqual([[store('glibc')], [store('zlib')], [store('openssl')], [store('curl')]]);
  });

  it('churn is the default planner', () => {
    expect(DEFAULT_PLANNER).toBe('churn');
    const closure = generatedClosure(150, 3);
    expect(planLayers(closure, { maxLayers: 20 })).toEqual(
      planLayers(closure, { planner: 'churn', maxLayers: 20 }),
    );
  });

  it('churn rebuilds fewer bytes than popularity after a change', () => {
    const closure = generatedClosure(400, 5);
    const rebuilt = (planner: PlannerName) =>
      rebuiltBytes(closure, 200, { planner, maxLayers: 50 });

    expect(rebuilt('churn')).toBeLessThan(rebuilt('popularity'));
    expect(rebuilt('popularity')).toBeLessThan(rebuilt('single'));
  });

  it('churn plans a closure past 1000 items, whatever its order', () => {
    const closure = generatedClosure(1500, 13);
    const shuffled = reversed(closure);

    const plan = planLayers(closure, { planner: 'churn' });

    const all = plan.flat();
    expect(all).toHaveLength(1500);
    expect(new Set(all).size).toBe(1500);
    expect(plan).toHaveLength(100);
    expect(planLayers(shuffled, { planner: 'churn' })).toEqual(plan);
  });

  it('churn plans a root that refers to 1500 items', () => {
    const items = Array.from({ length: 1500 }, (_, index) => ({
      path: store(`item${index}`),
      references: [],
      narSize: 1000 + ((index * 7919) % 100_000),
    }));
    const root = { path: store('root'), references: items.map((item) => item.path), narSize: 10 };

    const plan = planLayers({ items: [...items, root], roots: [root.path] }, { planner: 'churn' });

    expect(plan).toHaveLength(100);
    expect(new Set(plan.flat()).size).toBe(1501);
  });

  it('churn plans 1100 items that no reference joins', () => {
    const items = Array.from({ length: 1100 }, (_, index) => ({
      path: store(`item${index}`),
      references: [],
      narSize: 1000 + index,
    }));

    const plan = planLayers({ items, roots: [] }, { planner: 'churn', maxLayers: 10 });

    expect(plan).toHaveLength(10);
    expect(new Set(plan.flat()).size).toBe(1100);
  });

  it('churn rebuilds fewer bytes than popularity past 1000 items', () => {
    const closure = generatedClosure(1200, 5);
    const rebuilt = (planner: PlannerName) => rebuiltBytes(closure, 600, { planner });

    expect(rebuilt('churn')).toBeLessThan(rebuilt('popularity'));
  });

  it.each([
    [
      'a duplicate item',
      {
        items: [
          { path: store('a'), references: [] },
          { path: store('a'), references: [] },
        ],
        roots: [],
      },
      'is listed twice',
    ],
    [
      'a reference outside',
      { items: [{ path: store('a'), references: [store('b')] }], roots: [] },
      'which is not an item of the closure',
    ],
    [
      'a root outside',
      { items: [{ path: store('a'), references: [] }], roots: [store('b')] },
      'is not an item',
    ],
    ...[-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e308, 2 ** 53].map((narSize) => [
      `NAR size ${narSize}`,
      { items: [{ path: store('a'), references: [], narSize }], roots: [store('a')] },
      `has NAR size ${narSize}: expected a whole number of bytes`,
    ]),
  ])('rejects a closure with %s', (_case, closure, message) => {
    const error = (() => {
      try {
        planLayers(closure as ClosureGraph);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(LayerError);
    expect(error).toMatchObject({ code: 'INVALID_CLOSURE' });
    expect((error as Error).message).toContain(message);
  });

  it.each([
    ['an unknown planner', { planner: 'largest' as PlannerName }, 'invalid planner "largest"'],
    ['maxLayers 0', { maxLayers: 0 }, 'invalid maxLayers 0'],
    ['a fractional maxLayers', { maxLayers: 2.5 }, 'invalid maxLayers 2.5'],
  ])('rejects %s', (_case, options, message) => {
    expect(() => planLayers(SMALL, options)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining(message),
      }),
    );
  });
});

/** Gives `changed` and every item that refers to it, directly or not, a new store path. */
/** Returns the closure with its items, and each item's references, in reverse order. */
function reversed(closure: ClosureGraph): ClosureGraph {
  return {
    roots: closure.roots,
    items: [...closure.items]
      .reverse()
      .map((item) => ({ ...item, references: [...item.references].reverse() })),
  };
}

/**
 * Returns the NAR bytes of the layers that a plan of the closure gets anew when item number
 * `changed` and its referrers get new store paths.
 */
function rebuiltBytes(closure: ClosureGraph, changed: number, options: PlanLayersOptions): number {
  const sizes = new Map(closure.items.map((item) => [item.path, item.narSize as number]));
  const before = planLayers(closure, options);
  const path = closure.items[changed]?.path as string;
  const after = planLayers(renameWithReferrers(closure, path), options);
  const known = new Set(before.map((layer) => layer.join('\n')));
  return after
    .filter((layer) => !known.has(layer.join('\n')))
    .flat()
    .reduce((sum, item) => sum + (sizes.get(item.replace('-new', '')) ?? 0), 0);
}

function renameWithReferrers(closure: ClosureGraph, changed: string): ClosureGraph {
  const renamed = new Set([changed]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const item of closure.items) {
      if (!renamed.has(item.path) && item.references.some((reference) => renamed.has(reference))) {
        renamed.add(item.path);
        grew = true;
      }
    }
  }
  const rename = (path: string) => (renamed.has(path) ? `${path}-new` : path);
  return {
    roots: closure.roots.map(rename),
    items: closure.items.map((item) => ({
      ...item,
      path: rename(item.path),
      references: item.references.map(rename),
    })),
  };
}
