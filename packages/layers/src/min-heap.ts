/** A binary heap that gives back its values smallest first, as `compare` orders them. */
export class MinHeap<T> {
  readonly #values: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** Number of values in the heap. */
  get size(): number {
    return this.#values.length;
  }

  /** Adds a value. */
  push(value: T): void {
    const values = this.#values;
    let at = values.length;
    values.push(value);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (this.compare(values[parent] as T, value) <= 0) {
        break;
      }
      values[at] = values[parent] as T;
      at = parent;
    }
    values[at] = value;
  }

  /** Removes and returns the smallest value, or undefined when the heap is empty. */
  pop(): T | undefined {
    const values = this.#values;
    const smallest = values[0];
    const last = values.pop();
    if (values.length === 0 || last === undefined) {
      return smallest;
    }
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= values.length) {
        break;
      }
      const right = left + 1;
      const child =
        right < values.length && this.compare(values[right] as T, values[left] as T) < 0
          ? right
          : left;
      if (this.compare(last, values[child] as T) <= 0) {
        break;
      }
      values[at] = values[child] as T;
      at = child;
    }
    values[at] = last;
    return smallest;
  }
}
