import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap.js';

describe('MinHeap', () => {
  it('gives back nothing when empty', () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    expect(heap.pop()).toBeUndefined();
    expect(heap.size).toBe(0);
  });

  it('gives values back in order', () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    // A fixed pseudo-random sequence with repeats, so that equal values meet.
    const values = Array.from({ length: 500 }, (_, index) => (index * 7919) % 97);
    for (const value of values) {
      heap.push(value);
    }
    expect(heap.size).toBe(500);
    const popped = Array.from({ length: 500 }, () => heap.pop());
    expect(popped).toEqual([...values].sort((a, b) => a - b));
    expect(heap.size).toBe(0);
  });

  it('orders by the compare function, ties included', () => {
    const heap = new MinHeap<[number, string]>((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
    for (const value of [
      [2, 'b'],
      [1, 'z'],
      [2, 'a'],
      [1, 'y'],
    ] as [number, string][]) {
      heap.push(value);
    }
    expect([heap.pop(), heap.pop(), heap.pop(), heap.pop()]).toEqual([
      [1, 'y'],
      [1, 'z'],
      [2, 'a'],
      [2, 'b'],
    ]);
  });

  it('mixes pushes and pops', () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    heap.push(5);
    heap.push(3);
    expect(heap.pop()).toBe(3);
    heap.push(4);
    heap.push(1);
    expect(heap.pop()).toBe(1);
    expect(heap.pop()).toBe(4);
    expect(heap.pop()).toBe(5);
    expect(heap.pop()).toBeUndefined();
  });
});
