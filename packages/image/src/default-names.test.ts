import { describe, expect, it } from 'vitest';
import { defaultArchiveFileName, defaultRepoTag } from './default-names.js';

const hash = '0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s';

describe('defaultRepoTag', () => {
  it.each([
    ['the first word of a multi-word name', `/gnu/store/${hash}-hello-app-2.12`, `hello:${hash}`],
    ['a name with a version', `/nix/store/${hash}-glibc-2.36`, `glibc:${hash}`],
    ['a name without a version', `/nix/store/${hash}-greeting`, `greeting:${hash}`],
    ['upper-case letters, lowered', `/nix/store/${hash}-Python-3.11.4`, `python:${hash}`],
    ['a leading digit, kept', `/nix/store/${hash}-7zip-23.01`, `7zip:${hash}`],
    ['a "+" the grammar forbids, replaced', `/gnu/store/${hash}-g++-13`, `g:${hash}`],
    ['a "+" inside the word', `/gnu/store/${hash}-c+b-1`, `c-b:${hash}`],
    ['a run of mixed separators, made one "-"', `/nix/store/${hash}-a._b-1`, `a-b:${hash}`],
    ['a name with no letter or digit', `/nix/store/${hash}-+++-1`, `image:${hash}`],
  ])('takes %s', (_case, storePath, expected) => {
    expect(defaultRepoTag(storePath)).toBe(expected);
  });
});

describe('defaultArchiveFileName', () => {
  it('follows the original naming', () => {
    expect(defaultArchiveFileName(`/gnu/store/${hash}-hello-2.12`)).toBe(
      `docker-image-${hash}-hello-2.12.tar`,
    );
  });
});
