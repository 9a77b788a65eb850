import { describe, expect, it } from 'vitest';
import { ChunkPool } from './chunk-pool.js';

const SIZE = 512 * 1024;

describe('ChunkPool', () => {
  it('passes its buffers on to the next pool through shared spares', async () => {
    const spares: Buffer[] = [];
    const first = new ChunkPool(4, SIZE, spares);
    const lent = [await first.take(), await first.take()];
    for (const buffer of lent) {
      first.recycle(buffer.subarray(0, 10));
    }

    first.retire(8);
    const afterRetire = spares.length;
    const second = new ChunkPool(4, SIZE, spares);
    const fromSecond = [await second.take(), await second.take(), await second.take()];

    expect(afterRetire).toBe(2);
    expect(fromSecond.slice(0, 2).every((buffer) => lent.includes(buffer))).toBe(true);
    expect(lent.includes(fromSecond[2] as Buffer)).toBe(false);
    expect(fromSecond.every((buffer) => buffer.length === SIZE)).toBe(true);
    expect(spares).toHaveLength(0);
  });

  it('keeps at most the spares it is given room for', async () => {
    const spares: Buffer[] = [];
    const pool = new ChunkPool(4, SIZE, spares);
    const lent = await Promise.all([pool.take(), pool.take(), pool.take()]);
    for (const buffer of lent) {
      pool.giveBack(buffer);
    }

    pool.retire(2);

    expect(spares).toHaveLength(2);
  });

  it('keeps a buffer still lent when it retires', async () => {
    const spares: Buffer[] = [];
    const pool = new ChunkPool(2, SIZE, spares);
    const stillLent = await pool.take();
    pool.giveBack(await pool.take());

    pool.retire(4);

    expect(spares).toHaveLength(1);
    expect(spares).not.toContain(stillLent);
  });
});
