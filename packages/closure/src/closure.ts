/** A store item of a closure with the store paths it refers to. */
export interface ClosureItem {
  /** Store path of the item. */
  path: string;
  /** Store paths the item refers to, sorted, including the item itself when it refers to itself. */
  references: string[];
  /** Size of the item's NAR serialisation in bytes, when the store database records it. */
  narSize?: number;
}

/** The runtime closure of one or more store paths: every item they refer to, directly or not. */
export interface Closure {
  /** Store directory that contains every item, e.g. `/nix/store`. */
  storeDir: string;
  /** Store paths of the root items, sorted and without duplicates. */
  roots: string[];
  /** Every item of the closure, sorted by path. */
  items: ClosureItem[];
  /** Origin of the references: the store database or a scan of the items' bytes. */
  source: 'db' | 'scan';
}

/**
 * Counts, for each item of a closure, how many other items refer to it. Self-references do not
 * count, so a root that nothing else refers to gets 0.
 */
export function referrerCounts(closure: Closure): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of closure.items) {
    counts.set(item.path, 0);
  }

  for (const item of closure.items) {
    for (const reference of item.references) {
      if (reference !== item.path) {
        counts.set(reference, (counts.get(reference) ?? 0) + 1);
      }
    }
  }
  return counts;
}
