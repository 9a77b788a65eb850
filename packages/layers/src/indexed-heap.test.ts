import { describe, expect, it } from 'vitest';
import { IndexedHeap } from './indexed-heap.js';

/** Creates a heap over the indexes of `keys`, ordered by key, then by index. */
function heapOver(keys: number[]): IndexedHeap {
  return new IndexedHeap(keys.length, (a, b) => (keys[a] as number) - (keys[b] as number) || a - b);
}

/** Pops every number left in the heap. */
function drain(heap: IndexedHeap): number[] {
  const popped: number[] = [];
  for (let value = heap.pop(); value !== undefined; value = heap.pop()) {
    popped.push(value);
  }
  return popped;
}

describe('IndexedHeap', () => {
  it('gives back nothing when empty', () => {
    const heap = heapOver([]);
    expect(heap.pop()).toBeUndefined();
    expect(heap.size).toBe(0);
  });

  it('gives numbers back by key, ties by number', () => {
    // A fixed pseudo-random sequence with repeats, so that equal keys meet.
    const keys = Array.from({ length: 500 }, (_, index) => (index * 7919) % 97);
    const heap = heapOver(keys);
    for (const value of keys.keys()) {
      heap.push(value);
    }
    expect(heap.size).toBe(500);
    const expected = [...keys.keys()].sort(
      (a, b) => (keys[a] as number) - (keys[b] as number) || a - b,
    );
    expect(drain(heap)).toEqual(expected);
  });

  it('rejects a second push and updating a missing number', () => {
    const heap = heapOver([1, 2]);
    heap.push(0);
    expect(() => heap.push(0)).toThrow(/already in the heap/);
    expect(() => heap.update(1)).toThrow(/not in the heap/);
  });

  it('removes any number, ignoring missing ones', () => {
    const keys = [5, 3, 8, 1, 9, 2, 7];
    const heap = heapOver(keys);
    for (const value of keys.keys()) {
      heap.push(value);
    }
    heap.remove(3);
    heap.remove(4);
    heap.remove(3);
    expect(heap.has(3)).toBe(false);
    expect(heap.size).toBe(5);
    expect(drain(heap)).toEqual([5, 1, 0, 6, 2]);
  });

  it.each([
    ['one by one', false],
    ['all at once', true],
  ])('keeps its order when keys change, moved %s', (_name, rebuild) => {
    let state = 7;
    const random = (bound: number) => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % bound;
    };
    const keys = Array.from({ length: 300 }, () => random(50));
    const heap = heapOver(keys);
    const inHeap = new Set<number>();
    for (let step = 0; step < 3000; step++) {
      const value = random(keys.length);
      const action = random(4);
      if (!inHeap.has(value)) {
        heap.push(value);
        inHeap.add(value);
      } else if (action === 0) {
        heap.remove(value);
        inHeap.delete(value);
      } else if (action === 1) {
        const smallest = [...inHeap].sort(
          (a, b) => (keys[a] as number) - (keys[b] as number) || a - b,
        )[0];
        expect(heap.pop()).toBe(smallest);
        inHeap.delete(smallest as number);
      } else if (rebuild) {
        // Many keys change before the heap is put back in order.
        for (const other of inHeap) {
          if (random(3) === 0) {
            keys[other] = random(50);
          }
        }
        heap.rebuild();
      } else {
        keys[value] = random(50);
        heap.update(value);
      }
    }
    expect(heap.size).toBe(inHeap.size);
    const expected = [...inHeap].sort((a, b) => (keys[a] as number) - (keys[b] as number) || a - b);
    expect(drain(heap)).toEqual(expected);
  });
});
