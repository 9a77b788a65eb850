/** A set of item numbers below a fixed bound, stored as 32-bit words. */
export type ItemSet = Uint32Array;

/** Creates an empty set for item numbers below `size`. */
export function createItemSet(size: number): ItemSet {
  return new Uint32Array(Math.ceil(size / 32));
}

/** Adds an item number to a set. */
export function addItem(set: ItemSet, item: number): void {
  set[item >>> 5] = (set[item >>> 5] as number) | (1 << (item & 31));
}

/** Checks whether a set contains an item number. */
export function hasItem(set: ItemSet, item: number): boolean {
  return ((set[item >>> 5] as number) & (1 << (item & 31))) !== 0;
}

/** Adds every item of `source` to `target`. */
export function addAll(target: ItemSet, source: ItemSet): void {
  for (let word = 0; word < target.length; word++) {
    target[word] = (target[word] as number) | (source[word] as number);
  }
}

/** Counts the items of the union of two sets without building it. */
export function countUnion(a: ItemSet, b: ItemSet): number {
  let count = 0;
  for (let word = 0; word < a.length; word++) {
    count += bitCount((a[word] as number) | (b[word] as number));
  }
  return count;
}

/**
 * Lists the items of a set in ascending order, in a typed array, which takes half the memory of
 * an array of numbers.
 */
export function listItems(set: ItemSet): Int32Array {
  let count = 0;
  for (const word of set) {
    count += bitCount(word);
  }
  const items = new Int32Array(count);
  let next = 0;
  for (const [index, word] of set.entries()) {
    for (let bit = 0; word >>> bit !== 0 && bit < 32; bit++) {
      if ((word >>> bit) & 1) {
        items[next] = index * 32 + bit;
        next += 1;
      }
    }
  }
  return items;
}

/** Counts the items that `listed`, the items of some set, shares with `set`. */
export function countShared(listed: Int32Array, set: ItemSet): number {
  let count = 0;
  for (let index = 0; index < listed.length; index++) {
    if (hasItem(set, listed[index] as number)) {
      count += 1;
    }
  }
  return count;
}

function bitCount(word: number): number {
  let bits = word - ((word >>> 1) & 0x55555555);
  bits = (bits & 0x33333333) + ((bits >>> 2) & 0x33333333);
  return Math.imul((bits + (bits >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
