import { describe, expect, it } from 'vitest';
import { ZstdLane } from './zstd-lane.js';

/** Resolves after the promises and callbacks queued so far have run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ZstdLane', () => {
  it('limits the frames in flight', async () => {
    const lane = new ZstdLane(0, 2);
    const started: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      void lane.take().then(() => started.push(name));
    }
    await settle();
    expect(started).toEqual(['a', 'b']);

    lane.free();
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);

    lane.free();
    lane.free();
    await settle();
    expect(started).toEqual(['a', 'b', 'c', 'd']);

    // One frame is in flight now, so one more may start at once, and a second must wait.
    let later = false;
    await lane.take();
    void lane.take().then(() => {
      later = true;
    });
    await settle();
    expect(later).toBe(false);
  });

  it('keeps its worker', () => {
    expect(new ZstdLane(3, 1).worker).toBe(3);
    expect(new ZstdLane(undefined, 1).worker).toBeUndefined();
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects %s frames in flight', (frames) => {
    expect(() => new ZstdLane(0, frames)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        message: `invalid number of zstd frames in flight ${frames}: expected a whole number, 1 or more`,
      }),
    );
  });
});
