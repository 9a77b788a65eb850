/**
 * A binary heap of the whole numbers below a fixed capacity, smallest first as `compare` orders
 * them. It records where each number sits, so that a number whose key changed can be moved in
 * place and any number can be taken out, without leaving stale copies behind.
 */
export class IndexedHeap {
  readonly #heap: Int32Array;
  /** The position of each number in `#heap`, or -1 when it is not in the heap. */
  readonly #positions: Int32Array;
  readonly #compare: (a: number, b: number) => number;
  #size = 0;

  /** Creates an empty heap for the numbers below `capacity`, which `compare` orders by their keys. */
  constructor(capacity: number, compare: (a: number, b: number) => number) {
    this.#heap = new Int32Array(capacity);
    this.#positions = new Int32Array(capacity).fill(-1);
    this.#compare = compare;
  }

  /** Number of numbers in the heap. */
  get size(): number {
    return this.#size;
  }

  /** Checks whether `value` is in the heap. */
  has(value: number): boolean {
    return this.#positions[value] !== -1;
  }

  /** Adds `value`, which must not be in the heap yet. */
  push(value: number): void {
    if (this.has(value)) {
      throw new RangeError(`${value} is already in the heap`);
    }
    this.#place(value, this.#size);
    this.#size += 1;
    this.#siftUp(this.#size - 1);
  }

  /** Removes and returns the smallest number, or undefined when the heap is empty. */
  pop(): number | undefined {
    if (this.#size === 0) {
      return undefined;
    }
    const smallest = this.#heap[0] as number;
    this.remove(smallest);
    return smallest;
  }

  /** Takes `value` out of the heap; nothing happens when it is not there. */
  remove(value: number): void {
    const at = this.#positions[value] as number;
    if (at === -1) {
      return;
    }
    this.#size -= 1;
    this.#positions[value] = -1;
    if (at === this.#size) {
      return;
    }
    this.#place(this.#heap[this.#size] as number, at);
    this.#restore(at);
  }

  /** Moves `value` to where its key now puts it, after the key changed either way. */
  update(value: number): void {
    const at = this.#positions[value] as number;
    if (at === -1) {
      throw new RangeError(`${value} is not in the heap`);
    }
    this.#restore(at);
  }

  /**
   * Puts every number back in order after many keys changed, in steps proportional to the size
   * of the heap. Once a large share of the keys changed, this is cheaper than `update` for each.
   */
  rebuild(): void {
    for (let at = (this.#size >> 1) - 1; at >= 0; at--) {
      this.#siftDown(at);
    }
  }

  #restore(at: number): void {
    if (!this.#siftUp(at)) {
      this.#siftDown(at);
    }
  }

  /** Moves the number at `at` up past larger parents. Returns whether it moved. */
  #siftUp(at: number): boolean {
    const value = this.#heap[at] as number;
    const start = at;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const above = this.#heap[parent] as number;
      if (this.#compare(above, value) <= 0) {
        break;
      }
      this.#place(above, at);
      at = parent;
    }
    this.#place(value, at);
    return at !== start;
  }

  /** Moves the number at `at` down past smaller children. */
  #siftDown(at: number): void {
    const value = this.#heap[at] as number;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= this.#size) {
        break;
      }
      const right = left + 1;
      let child = left;
      if (
        right < this.#size &&
        this.#compare(this.#heap[right] as number, this.#heap[left] as number) < 0
      ) {
        child = right;
      }
      const below = this.#heap[child] as number;
      if (this.#compare(value, below) <= 0) {
        break;
      }
      this.#place(below, at);
      at = child;
    }
    this.#place(value, at);
  }

  #place(value: number, at: number): void {
    this.#heap[at] = value;
    this.#positions[value] = at;
  }
}
