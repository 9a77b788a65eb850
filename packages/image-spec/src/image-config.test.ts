import { describe, expect, it } from 'vitest';
import { computeDigest, type Digest } from './digest.js';
import { createImageConfig, formatCreated } from './image-config.js';
import { platformFromSystem } from './platform.js';

const LAYER_A = computeDigest('layer a');
const LAYER_B = computeDigest('layer b');

describe('createImageConfig', () => {
  it('builds a config for aarch64-linux', () => {
    const config = createImageConfig({
      platform: platformFromSystem('aarch64-linux'),
      created: new Date(1000),
      diffIds: [LAYER_A, LAYER_B],
      config: { Cmd: ['/bin/hello'], Env: ['PATH=/bin'] },
      history: [{ created_by: 'layer a' }, { created_by: 'layer b' }],
    });

    expect(config).toEqual({
      architecture: 'arm64',
      variant: 'v8',
      os: 'linux',
      created: '1970-01-01T00:00:01Z',
      config: { Cmd: ['/bin/hello'], Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: [LAYER_A, LAYER_B] },
      history: [{ created_by: 'layer a' }, { created_by: 'layer b' }],
    });
  });

  it('leaves out variant, config and history when not given', () => {
    const config = createImageConfig({
      platform: platformFromSystem('x86_64-linux'),
      created: new Date(1000),
      diffIds: [],
    });
    expect(Object.keys(config).sort()).toEqual(['architecture', 'created', 'os', 'rootfs']);
  });

  it('copies the diff ID list', () => {
    const diffIds: Digest[] = [LAYER_A];
    const config = createImageConfig({
      platform: platformFromSystem('x86_64-linux'),
      created: new Date(1000),
      diffIds,
    });
    diffIds.push(LAYER_B);
    expect(config.rootfs.diff_ids).toEqual([LAYER_A]);
  });

  it('rejects a malformed diff ID', () => {
    expect(() =>
      createImageConfig({
        platform: platformFromSystem('x86_64-linux'),
        created: new Date(1000),
        diffIds: [LAYER_A, 'sha256:abc' as Digest],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_DIGEST',
        message: expect.stringContaining('diff ID 1 "sha256:abc" is not a digest'),
      }),
    );
  });
});

describe('formatCreated', () => {
  it.each([
    [0, '1970-01-01T00:00:00Z'],
    [1000, '1970-01-01T00:00:01Z'],
    [1500, '1970-01-01T00:00:01.500Z'],
    [Date.UTC(2024, 1, 29, 23, 59, 59, 1), '2024-02-29T23:59:59.001Z'],
    [Date.UTC(9999, 11, 31, 23, 59, 59), '9999-12-31T23:59:59Z'],
  ])('formats %d ms as %s', (milliseconds, expected) => {
    expect(formatCreated(new Date(milliseconds))).toBe(expected);
  });

  it('rejects an invalid date', () => {
    expect(() => formatCreated(new Date(Number.NaN))).toThrow(
      expect.objectContaining({ code: 'INVALID_DATE' }),
    );
  });

  it('rejects a year past 9999', () => {
    expect(() => formatCreated(new Date(Date.UTC(10000, 0, 1)))).toThrow(
      expect.objectContaining({
        code: 'INVALID_DATE',
        message: expect.stringContaining('+010000'),
      }),
    );
  });
});
