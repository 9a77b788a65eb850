import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { computeDigest } from './digest.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops whitespace', () => {
    const value = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } };
    expect(canonicalJson(value)).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('gives equal digests for documents that differ only in key order', () => {
    const first = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } };
    const second = { rootfs: { diff_ids: [], type: 'layers' }, os: 'linux', architecture: 'amd64' };
    expect(computeDigest(canonicalJson(first))).toBe(computeDigest(canonicalJson(second)));
  });

  it('drops undefined members and writes undefined items as null', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, 1] })).toBe('{"b":[null,1]}');
    // biome-ignore lint/suspicious/noSparseArray: the hole is the case under test
    expect(canonicalJson([1, , 3])).toBe('[1,null,3]');
  });

  it('orders keys by UTF-16 code units, not code points', () => {
    // U+1F600 is stored as the surrogate pair D83D DE00, which sorts before U+FF01.
    const value = { '\uFF01': 1, '\u{1F600}': 2, B: 3, a: 4, '': 5 };
    expect(canonicalJson(value)).toBe('{"":5,"B":3,"a":4,"\u{1F600}":2,"\uFF01":1}');
  });

  it('serialises dates through toJSON', () => {
    expect(canonicalJson({ t: new Date(1000) })).toBe('{"t":"1970-01-01T00:00:01.000Z"}');
  });

  it('escapes strings as JSON.stringify does', () => {
    const text = 'quote " backslash \\ newline \n tab \t nul \u0000 é';
    expect(canonicalJson(text)).toBe(JSON.stringify(text));
    expect(JSON.parse(canonicalJson({ text }))).toEqual({ text });
  });

  it('keeps __proto__ as a plain key', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"a":2}');
    expect(canonicalJson(value)).toBe('{"__proto__":{"x":1},"a":2}');
  });

  it('matches jq --sort-keys for ASCII keys', () => {
    const value = {
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/hello'], Labels: { 'org.a': '1', 'org.B': '2' } },
      rootfs: { type: 'layers', diff_ids: ['sha256:00'] },
      history: [{ created: '1970-01-01T00:00:01Z', created_by: 'storepack' }],
      n: [0, -1.5, 1e21, 12345678901234],
    };
    const jq = execFileSync('jq', ['--sort-keys', '--compact-output', '.'], {
      input: JSON.stringify(value),
    }).toString();
    expect(canonicalJson(value)).toBe(jq.trimEnd());
  });

  it.each([
    ['NaN', { a: Number.NaN }, 'at $.a: number NaN is not finite'],
    ['Infinity in an array', [1, Number.POSITIVE_INFINITY], 'at $[1]: number Infinity'],
    ['bigint', { a: 1n }, 'at $.a: a bigint has no JSON form'],
    ['function', { a: () => 1 }, 'at $.a: a function has no JSON form'],
    ['symbol', { a: Symbol('s') }, 'at $.a: a symbol has no JSON form'],
    ['top-level undefined', undefined, 'top-level value is undefined'],
  ])('rejects %s', (_name, value, message) => {
    expect(() => canonicalJson(value)).toThrow(
      expect.objectContaining({
        code: 'INVALID_JSON_VALUE',
        message: expect.stringContaining(message),
      }),
    );
  });

  it('rejects a cycle but allows shared subtrees', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');

    const cyclic: Record<string, unknown> = {};
    cyclic.self = { back: cyclic };
    expect(() => canonicalJson(cyclic)).toThrow(/at \$\.self\.back: the value refers to itself/);
  });
});
