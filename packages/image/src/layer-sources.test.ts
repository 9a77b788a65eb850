import type { Closure } from '@storepack/closure';
import { describe, expect, it } from 'vitest';
import { layerSizeHints } from './layer-sources.js';

const store = '/nix/store';
const path = (name: string) => `${store}/${name.padEnd(32, '0')}-${name}`;

describe('layerSizeHints', () => {
  it('sums NAR sizes and counts bad ones as 0', () => {
    const sizes: Record<string, unknown> = {
      a: 100,
      b: 20,
      negative: -1,
      nan: Number.NaN,
      infinite: Number.POSITIVE_INFINITY,
      text: 'abc',
      missing: undefined,
    };
    const closure = {
      storeDir: store,
      roots: [path('a')],
      source: 'db',
      items: Object.entries(sizes).map(([name, narSize]) => ({
        path: path(name),
        references: [],
        ...(narSize === undefined ? {} : { narSize }),
      })),
    } as unknown as Closure;
    const source = (...names: string[]) => ({ storeDir: store, storePaths: names.map(path) });

    const hints = layerSizeHints(closure, [
      source('a', 'b'),
      source('negative', 'nan', 'infinite', 'text', 'missing'),
      source('b', 'text'),
      source(),
    ]);

    expect(hints).toEqual([120, 0, 20, 0]);
  });

  it('keeps sums of huge sizes finite', () => {
    const closure = {
      storeDir: store,
      roots: [path('a')],
      source: 'db',
      items: ['a', 'b'].map((name) => ({ path: path(name), references: [], narSize: 1.5e308 })),
    } as Closure;

    const hints = layerSizeHints(closure, [
      { storeDir: store, storePaths: [path('a'), path('b')] },
    ]);

    expect(hints).toEqual([Number.MAX_VALUE]);
  });
});
