import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeDigest, createDigester, isDigest, parseDigest } from './digest.js';
import { ImageSpecError } from './errors.js';

const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ABC_SHA256 = 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('computeDigest', () => {
  it('hashes known sha256 vectors', () => {
    expect(computeDigest('')).toBe(EMPTY_SHA256);
    expect(computeDigest('abc')).toBe(ABC_SHA256);
    expect(computeDigest(new TextEncoder().encode('abc'))).toBe(ABC_SHA256);
  });

  it('agrees with coreutils sha256sum and sha512sum', () => {
    const bytes = randomBytes(100_000);
    const sha256 = execFileSync('sha256sum', { input: bytes }).toString().split(' ')[0];
    const sha512 = execFileSync('sha512sum', { input: bytes }).toString().split(' ')[0];

    expect(computeDigest(bytes)).toBe(`sha256:${sha256}`);
    expect(computeDigest(bytes, 'sha512')).toBe(`sha512:${sha512}`);
  });
});

describe('parseDigest', () => {
  it('splits a valid digest', () => {
    expect(parseDigest(ABC_SHA256)).toEqual({
      algorithm: 'sha256',
      encoded: ABC_SHA256.slice('sha256:'.length),
    });
  });

  it.each([
    ['empty text', '', 'found no ":"'],
    ['missing algorithm separator', 'e3b0c442', 'found no ":"'],
    [
      'unsupported algorithm',
      'md5:d41d8cd98f00b204e9800998ecf8427e',
      'unsupported algorithm "md5"',
    ],
    ['upper-case algorithm', `SHA256:${'a'.repeat(64)}`, 'unsupported algorithm "SHA256"'],
    ['short hash', 'sha256:abc', 'found 3 characters'],
    ['sha512 length under sha256', `sha256:${'a'.repeat(128)}`, 'found 128 characters'],
    ['upper-case hex', `sha256:${'A'.repeat(64)}`, 'other than 0-9 and a-f'],
    ['non-hex letters', `sha256:${'g'.repeat(64)}`, 'other than 0-9 and a-f'],
  ])('rejects %s', (_name, text, found) => {
    let error: unknown;
    try {
      parseDigest(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ImageSpecError);
    expect((error as ImageSpecError).code).toBe('INVALID_DIGEST');
    expect((error as ImageSpecError).message).toContain('expected "sha256:" followed by 64');
    expect((error as ImageSpecError).message).toContain(found);
  });

  it('cuts long input short in the message', () => {
    const text = `sha256:${'z'.repeat(5000)}`;
    expect(() => parseDigest(text)).toThrow(/…/);
    try {
      parseDigest(text);
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(300);
    }
  });
});

describe('isDigest', () => {
  it('accepts sha256 and sha512', () => {
    expect(isDigest(ABC_SHA256)).toBe(true);
    expect(isDigest(computeDigest('x', 'sha512'))).toBe(true);
  });

  it('rejects malformed text', () => {
    expect(isDigest('sha256:')).toBe(false);
    expect(isDigest(ABC_SHA256.slice(7))).toBe(false);
    expect(isDigest(`${ABC_SHA256}\n`)).toBe(false);
  });
});

describe('createDigester', () => {
  it('matches computeDigest over chunks', () => {
    const bytes = randomBytes(10_000);
    const digester = createDigester();
    for (let offset = 0; offset < bytes.length; offset += 777) {
      digester.update(bytes.subarray(offset, offset + 777));
    }
    expect(digester.digest()).toBe(computeDigest(bytes));
  });

  it('gives the empty digest with no chunks', () => {
    expect(createDigester().digest()).toBe(EMPTY_SHA256);
  });

  it('rejects digest called twice', () => {
    const digester = createDigester('sha512');
    digester.digest();
    expect(() => digester.digest()).toThrow(expect.objectContaining({ code: 'DIGEST_FINISHED' }));
  });

  it('rejects update after digest', () => {
    const digester = createDigester();
    digester.digest();
    expect(() => digester.update(new Uint8Array([1]))).toThrow(
      expect.objectContaining({ code: 'DIGEST_FINISHED' }),
    );
  });
});
