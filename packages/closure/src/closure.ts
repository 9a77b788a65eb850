/** A store item of a closure with the store paths it refers to. */
export interface ClosureItem {
  /** Store path of the item. */
  path: string;
  /** Store paths the item refers to, sorted, including the item itself when it refers to itself. */
  references: string[];
  /** Size of the item's NAR serialisation in bytes, when the source records or measures it. */
  narSize?: number;
  /**
   * Number of file system entries in the item (regular files, symbolic links and folders, the
   * item itself included), when the source walked the item's files.
   */
  fileCount?: number;
}

/** Name of the source that a closure's references came from. */
export type ClosureSourceName = 'db' | 'command' | 'scan' | 'file';

/** The runtime closure of one or more store paths: every item they refer to, directly or not. */
export interface Closure {
  /** Store directory that contains every item, e.g. `/nix/store`. */
  storeDir: string;
  /** Store paths of the root items, sorted and without duplicates. */
  roots: string[];
  /** Every item of the closure, sorted by path. */
  items: ClosureItem[];
  /**
   * Origin of the references: the store database, the store's own command (`nix-store` or
   * `guix gc`), a scan of the items' bytes, or a closure file.
   */
  source: ClosureSourceName;
}

/**
 * Counts, for each item of a closure, how many other items refer to it. Self-references do not
 * count, so a root that nothing else refers to gets 0.
 */
export function referrerCounts(closure: Closure): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [path, referrers] of reverseReferences(closure)) {
    counts.set(path, referrers.length);
  }
  return counts;
}

/**
 * Lists, for each item of a closure, the other items that refer to it, sorted by path.
 * Self-references are left out.
 */
export function reverseReferences(closure: Closure): Map<string, string[]> {
  const referrers = new Map<string, string[]>();
  for (const item of closure.items) {
    referrers.set(item.path, []);
  }

  // Items are sorted by path, so each list comes out sorted too.
  for (const item of closure.items) {
    for (const reference of item.references) {
      if (reference !== item.path) {
        referrers.get(reference)?.push(item.path);
      }
    }
  }
  return referrers;
}

/**
 * Adds up, for each item of a closure, the NAR sizes of the item and everything it refers to,
 * directly or not, as `nix path-info --closure-size` does. An item whose closure has an item of
 * unknown NAR size gets undefined.
 */
export function closureSizes(closure: Closure): Map<string, number | undefined> {
  const byPath = new Map(closure.items.map((item) => [item.path, item]));
  const sizes = new Map<string, number | undefined>();

  for (const item of closure.items) {
    const seen = new Set([item.path]);
    const queue = [item];
    let total: number | undefined = 0;
    for (let index = 0; index < queue.length; index += 1) {
      const current = queue[index] as ClosureItem;
      total =
        current.narSize === undefined || total === undefined ? undefined : total + current.narSize;
      for (const reference of current.references) {
        const next = byPath.get(reference);
        if (next !== undefined && !seen.has(reference)) {
          seen.add(reference);
          queue.push(next);
        }
      }
    }
    sizes.set(item.path, total);
  }
  return sizes;
}
