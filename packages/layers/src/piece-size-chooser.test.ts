import { describe, expect, it } from 'vitest';
import { PieceSizeChooser } from './piece-size-chooser.js';

const OPTIONS = { trialBytes: 100, keepBytes: 1000 };

/** Writes `count` times through `chooser`, each write of `bytes` costing `cost(size)` ns per byte. */
function writeMany(
  chooser: PieceSizeChooser,
  count: number,
  bytes: number,
  cost: (size: number) => number,
): number[] {
  const sizes: number[] = [];
  for (let write = 0; write < count; write += 1) {
    const size = chooser.next();
    sizes.push(size);
    chooser.record(size, bytes, BigInt(bytes * cost(size)));
  }
  return sizes;
}

describe('PieceSizeChooser', () => {
  it('takes turns during a trial', () => {
    const chooser = new PieceSizeChooser([16, 128], OPTIONS);

    expect(writeMany(chooser, 6, 40, () => 1)).toEqual([16, 128, 16, 128, 16, 128]);
  });

  it.each([
    ['the smaller', 16, { 16: 2, 128: 5 }],
    ['the larger', 128, { 16: 5, 128: 2 }],
  ])('keeps %s size when it took less time per byte', (_name, faster, costs) => {
    const chooser = new PieceSizeChooser([16, 128], OPTIONS);
    const cost = (size: number) => costs[size as 16 | 128];

    writeMany(chooser, 6, 40, cost);

    expect(writeMany(chooser, 20, 40, cost)).toEqual(Array(20).fill(faster));
  });

  it('compares time per byte, not per write', () => {
    const chooser = new PieceSizeChooser([16, 128], OPTIONS);
    // The smaller size wrote 100 bytes in 200 ns, the larger 400 bytes in 400 ns.
    chooser.record(16, 100, 200n);
    chooser.record(128, 400, 400n);

    expect(chooser.next()).toBe(128);
  });

  it('outlasts one stalled write', () => {
    const chooser = new PieceSizeChooser([16, 128], OPTIONS);
    // Five writes of 20 bytes each: the smaller size at 1 ns per byte but for one write at 100.
    const costs = [1, 1, 100, 1, 1];
    for (const cost of costs) {
      chooser.record(16, 20, BigInt(20 * cost));
      chooser.record(128, 20, BigInt(20 * 2));
    }

    expect(chooser.next()).toBe(16);
  });

  it('tries again after the keep bytes', () => {
    const chooser = new PieceSizeChooser([16, 128], OPTIONS);
    writeMany(chooser, 6, 40, (size) => (size === 16 ? 1 : 3));
    expect(writeMany(chooser, 25, 40, () => 1)).toEqual(Array(25).fill(16));

    // 25 writes of 40 bytes reach the 1000 keep bytes. The larger size is now the faster.
    const sizes = writeMany(chooser, 10, 40, (size) => (size === 16 ? 4 : 1));

    expect(sizes).toEqual([16, 128, 16, 128, 16, 128, 128, 128, 128, 128]);
  });

  it('ignores sizes it does not offer', () => {
    const chooser = new PieceSizeChooser([16, 128], OPTIONS);
    chooser.record(64, 1000, 1n);

    expect(writeMany(chooser, 4, 10, () => 1)).toEqual([16, 128, 16, 128]);
  });

  it.each([[[]], [[0, 16]], [[16, 1.5]], [[16, 16]]])('rejects sizes %j', (sizes) => {
    expect(() => new PieceSizeChooser(sizes)).toThrow(RangeError);
  });

  it.each([
    [0, 1000],
    [100, -1],
    [Number.NaN, 1000],
  ])('rejects a trial of %s and keep of %s bytes', (trialBytes, keepBytes) => {
    expect(() => new PieceSizeChooser([16, 128], { trialBytes, keepBytes })).toThrow(RangeError);
  });
});
