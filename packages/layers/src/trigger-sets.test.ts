import { describe, expect, it } from 'vitest';
import { type ClosureGraphItem, type IndexedGraph, indexGraph } from './closure-graph.js';
import { type ItemSet, listItems } from './item-set.js';

/** Lists the items of a set as an array of numbers. */
const itemsOf = (set: ItemSet) => [...listItems(set)];

import { triggerSets } from './trigger-sets.js';

const store = (index: number) => `/nix/store/${String(index).padStart(32, '0')}-item${index}`;

/** Builds an indexed graph from each item's references, given by item number. */
function graphOf(references: number[][]): IndexedGraph {
  const items: ClosureGraphItem[] = references.map((targets, index) => ({
    path: store(index),
    references: targets.map(store),
  }));
  return indexGraph({ items, roots: [store(0)] });
}

/** Finds the requisites of each item, itself included, by a search from each item. */
function requisitesOneByOne(graph: IndexedGraph): number[][] {
  return graph.paths.map((_path, item) => {
    const found = new Set([item]);
    const pending = [item];
    while (pending.length > 0) {
      for (const reference of graph.references[pending.pop() as number] as number[]) {
        if (!found.has(reference)) {
          found.add(reference);
          pending.push(reference);
        }
      }
    }
    return [...found].sort((a, b) => a - b);
  });
}

describe('triggerSets', () => {
  it('gives each item itself and its requisites', () => {
    // 0 refers to 1 and 2, and both refer to 3, which refers to nothing.
    const sets = triggerSets(graphOf([[1, 2], [3], [3], []]));
    expect(sets.map(itemsOf)).toEqual([[0, 1, 2, 3], [1, 3], [2, 3], [3]]);
  });

  it('gives a cycle equal sets, one object each', () => {
    // 0 → 1 → 2 → 0, and 2 also refers to 3.
    const sets = triggerSets(graphOf([[1], [2], [0, 3], []]));
    expect(sets.map(itemsOf)).toEqual([[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3], [3]]);
    expect(new Set(sets).size).toBe(4);
  });

  it.each([1, 2, 3, 4, 5, 6])(
    'agrees with a search from each item on a random graph with cycles (seed %i)',
    (seed) => {
      let state = seed;
      const random = (bound: number) => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return Math.floor((state / 2 ** 32) * bound);
      };
      const count = 150;
      const references = Array.from({ length: count }, (_, index) =>
        Array.from({ length: random(4) }, () =>
          random(10) === 0 ? random(count) : random(index + 1),
        ),
      );
      const graph = graphOf(references);
      expect(triggerSets(graph).map(itemsOf)).toEqual(requisitesOneByOne(graph));
    },
  );

  it('follows a 20,000-item chain', () => {
    // A recursive search could run out of stack on a chain this long.
    const count = 20_000;
    const references = Array.from({ length: count }, (_, index) =>
      index + 1 < count ? [index + 1] : [],
    );
    const sets = triggerSets(graphOf(references));
    expect(itemsOf(sets[count - 2] as ItemSet)).toEqual([count - 2, count - 1]);
    expect(listItems(sets[0] as ItemSet)).toHaveLength(count);
  });
});
