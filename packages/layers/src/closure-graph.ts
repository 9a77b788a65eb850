import { LayerError } from './errors.js';

/** A store item of a closure, as `@storepack/closure`'s `resolveClosure` returns it. */
export interface ClosureGraphItem {
  /** Store path of the item. */
  path: string;
  /** Store paths the item refers to; a self-reference is allowed and ignored. */
  references: string[];
  /** Size of the item's NAR serialisation in bytes, when known. */
  narSize?: number;
}

/** The store items of a closure with their references, and the items it was computed from. */
export interface ClosureGraph {
  /** Every item of the closure, in any order. */
  items: ClosureGraphItem[];
  /** Store paths of the root items. */
  roots: string[];
}

/** A closure graph with items numbered by sorted path, as the planners work on it. */
export interface IndexedGraph {
  /** Store paths sorted by their bytes; an item's number is its index here. */
  paths: string[];
  /** For each item, the numbers of the items it refers to, self-references left out. */
  references: number[][];
  /** For each item, the numbers of the items that refer to it, self-references left out. */
  referrers: number[][];
  /**
   * For each item, its weight in bytes: the NAR size, or 1 for every item when any NAR size is
   * missing, so that weights stay in one unit.
   */
  sizes: number[];
}

/**
 * Numbers the items of a closure by sorted path and checks that the graph is closed: no item
 * listed twice, and every reference and root is an item.
 */
export function indexGraph(closure: ClosureGraph): IndexedGraph {
  const paths = closure.items.map((item) => item.path).sort(comparePaths);
  const numbers = new Map<string, number>();
  for (const [index, path] of paths.entries()) {
    if (numbers.has(path)) {
      throw new LayerError('INVALID_CLOSURE', `invalid closure: ${path} is listed twice`);
    }
    numbers.set(path, index);
  }

  const references: number[][] = paths.map(() => []);
  const referrers: number[][] = paths.map(() => []);
  const sizes: number[] = paths.map(() => 1);
  const allSized = closure.items.every((item) => item.narSize !== undefined);
  for (const item of closure.items) {
    const index = numbers.get(item.path) as number;
    if (item.narSize !== undefined && !isByteCount(item.narSize)) {
      throw new LayerError(
        'INVALID_CLOSURE',
        `invalid closure: ${item.path} has NAR size ${item.narSize}: expected a whole number of bytes from 0 to 2^53 - 1`,
      );
    }
    const targets = new Set<number>();
    for (const reference of item.references) {
      const target = numbers.get(reference);
      if (target === undefined) {
        throw new LayerError(
          'INVALID_CLOSURE',
          `invalid closure: ${item.path} refers to ${reference}, which is not an item of the closure`,
        );
      }
      if (target !== index) {
        targets.add(target);
      }
    }
    references[index] = [...targets].sort((a, b) => a - b);
    for (const target of references[index] as number[]) {
      (referrers[target] as number[]).push(index);
    }
    if (allSized) {
      sizes[index] = item.narSize as number;
    }
  }
  for (const list of referrers) {
    list.sort((a, b) => a - b);
  }

  for (const root of closure.roots) {
    if (!numbers.has(root)) {
      throw new LayerError('INVALID_CLOSURE', `invalid closure: root ${root} is not an item`);
    }
  }
  return { paths, references, referrers, sizes };
}

/** Checks that a NAR size is a whole number of bytes that a JavaScript number represents exactly. */
function isByteCount(size: number): boolean {
  return Number.isSafeInteger(size) && size >= 0;
}

/** Orders store paths by their UTF-8 bytes, as `sort` does in the C locale. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
