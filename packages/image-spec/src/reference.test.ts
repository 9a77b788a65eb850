import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageSpecError } from './errors.js';
import {
  formatFamiliarReference,
  formatReference,
  type ImageReference,
  parseReference,
  parseRepoTag,
} from './reference.js';

const HEX64 = '0123456789abcdef'.repeat(4);
const SHA256 = `sha256:${HEX64}`;
const SHA512 = `sha512:${HEX64}${HEX64}`;
const TAG128 = `v${'1'.repeat(127)}`;

/** Valid references, each with its full form after normalisation. */
const VALID_REFERENCES: [string, string][] = [
  ['ubuntu', 'docker.io/library/ubuntu:latest'],
  ['ubuntu:22.04', 'docker.io/library/ubuntu:22.04'],
  ['library/ubuntu', 'docker.io/library/ubuntu:latest'],
  ['docker.io/ubuntu', 'docker.io/library/ubuntu:latest'],
  ['docker.io/library/ubuntu:22.04', 'docker.io/library/ubuntu:22.04'],
  ['index.docker.io/ubuntu', 'docker.io/library/ubuntu:latest'],
  ['team/app', 'docker.io/team/app:latest'],
  ['docker.io/team/sub/app:1', 'docker.io/team/sub/app:1'],
  ['localhost/app', 'localhost/app:latest'],
  ['localhost:5000/app:1', 'localhost:5000/app:1'],
  ['registry:5000/team/hello:1', 'registry:5000/team/hello:1'],
  ['example.com/a/b/c/d:v1', 'example.com/a/b/c/d:v1'],
  ['my-registry.example.com:443/app', 'my-registry.example.com:443/app:latest'],
  ['192.168.1.10:5000/app', '192.168.1.10:5000/app:latest'],
  ['[::1]:5000/app:dev', '[::1]:5000/app:dev'],
  ['[2001:db8::1]/team/app', '[2001:db8::1]/team/app:latest'],
  [`app@${SHA256}`, `docker.io/library/app@${SHA256}`],
  [`app:1.0@${SHA256}`, `docker.io/library/app:1.0@${SHA256}`],
  [`localhost:5000/app@${SHA256}`, `localhost:5000/app@${SHA256}`],
  [`ghcr.io/owner/app@${SHA512}`, `ghcr.io/owner/app@${SHA512}`],
  ['ghcr.io/owner/repo-name_x.y__z:tag', 'ghcr.io/owner/repo-name_x.y__z:tag'],
  ['a--b---c/d', 'docker.io/a--b---c/d:latest'],
  [`app:${TAG128}`, `docker.io/library/app:${TAG128}`],
  ['app:V1.0-RC_2', 'docker.io/library/app:V1.0-RC_2'],
  ['app:_internal', 'docker.io/library/app:_internal'],
  // An upper-case first component can only be a host, because paths are lower case.
  ['Registry/app', 'Registry/app:latest'],
  // With no "/", the text after ":" is a tag, not a port.
  ['localhost:5000', 'docker.io/library/localhost:5000'],
  // Only a bare 64-digit hex string is read as an image ID.
  [`${HEX64}:1`, `docker.io/library/${HEX64}:1`],
  [`example.com/${'a'.repeat(243)}`, `example.com/${'a'.repeat(243)}:latest`],
];

/** Invalid references, each with the part of the message that names the broken rule. */
const INVALID_REFERENCES: [string, string][] = [
  // Nothing to parse.
  ['', 'reference is empty'],
  // Path components are lower case, so the name is not a host and must be lower case.
  ['Hello:1', 'repository name must be lowercase'],
  ['UBUNTU', 'repository name must be lowercase'],
  [`Ubuntu@${SHA256}`, 'repository name must be lowercase'],
  ['docker.io/Library/ubuntu', 'repository name must be lowercase'],
  ['localhost:5000/Team/app', 'repository name must be lowercase'],
  // A ":" must be followed by a tag.
  ['ubuntu:', 'tag is empty after ":"'],
  ['localhost:5000/app:', 'tag is empty after ":"'],
  // Tags are at most 128 characters.
  [`ubuntu:${TAG128}x`, 'tag must be at most 128 characters, found 129'],
  // Tags start with a letter, digit or "_".
  ['ubuntu:.hidden', 'must not start with "." or "-"'],
  ['ubuntu:-rc', 'must not start with "." or "-"'],
  // Tags have no "+" or other punctuation besides "_", "." and "-".
  ['ubuntu:1.0+build', 'tag "1.0+build" must contain only'],
  // The digest must be a full sha256 or sha512 digest.
  ['ubuntu@sha256:abc', 'digest "sha256:abc" must be'],
  [`ubuntu@md5:${'a'.repeat(32)}`, 'digest "md5:aaaaaaaaaaaaaaaa…" must be'],
  [
    `ubuntu@sha256:${HEX64.toUpperCase()}`,
    'must be "sha256:" followed by 64 lower-case hex digits',
  ],
  ['ubuntu@', 'digest "" must be'],
  ['ubuntu:1@', 'digest "" must be'],
  // Only one digest may follow the name.
  [`app@${SHA256}@${SHA256}`, 'must be "sha256:"'],
  // A digest needs a name in front of it.
  [`@${SHA256}`, 'repository name is empty'],
  // A registry needs a repository path after it.
  ['localhost/', 'repository path is empty after the registry'],
  ['example.com:5000/', 'repository path is empty after the registry'],
  // Path components are separated by exactly one "/".
  ['/ubuntu', 'must not contain an empty component'],
  ['team//app', 'must not contain an empty component'],
  ['team/app/', 'must not contain an empty component'],
  // Path components start and end with a letter or digit.
  ['-app', 'path component "-app" must be'],
  ['app_', 'path component "app_" must be'],
  // Separators are ".", "_", "__" or dashes, never three underscores or two dots.
  ['a___b', 'path component "a___b" must be'],
  ['a..b', 'path component "a..b" must be'],
  // Spaces are not allowed anywhere.
  ['ubuntu latest', 'path component "ubuntu latest" must be'],
  // A second ":" leaves a ":" in the name, which paths cannot contain.
  ['ubuntu:1:2', 'path component "ubuntu:1" must be'],
  // A port is digits only.
  ['localhost:abc/app', 'registry "localhost:abc" must be a host name'],
  // Host components do not start with "-".
  ['-bad.example.com/app', 'registry "-bad.example.com" must be a host name'],
  // An IPv6 host needs both brackets.
  ['[::1/app', 'registry "[::1" must be a host name'],
  // An IPv6 address is hex digits and colons.
  ['[zz::1]:5000/app', 'registry "[zz::1]:5000" must be a host name'],
  // The Docker CLI reads a bare 64-digit hex string as an image ID.
  [HEX64, 'is an image ID, not a repository name'],
  // Names including the registry are at most 255 characters.
  [`example.com/${'a'.repeat(244)}`, 'repository name must be at most 255 characters, found 256'],
];

/** Runs `action` and returns the ImageSpecError it raises, failing the test when it raises none. */
function caught(action: () => unknown): ImageSpecError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ImageSpecError);
    return error as ImageSpecError;
  }
  throw new Error('expected an ImageSpecError, but nothing was raised');
}

describe('parseReference', () => {
  it.each(VALID_REFERENCES)('accepts %s', (text, expected) => {
    expect(formatReference(parseReference(text))).toBe(expected);
  });

  it.each(INVALID_REFERENCES)('rejects %j', (text, rule) => {
    const error = caught(() => parseReference(text));
    expect(error.code).toBe('INVALID_REFERENCE');
    expect(error.message.startsWith(`invalid reference "${text.slice(0, 60)}`)).toBe(true);
    expect(error.message).toContain(rule);
  });

  it('names the broken rule after the input', () => {
    expect(caught(() => parseReference('Hello:1')).message).toBe(
      'invalid reference "Hello:1": repository name must be lowercase',
    );
  });

  it('returns the parts', () => {
    expect(parseReference(`[::1]:5000/team/app:2@${SHA256}`)).toEqual({
      registry: '[::1]:5000',
      repository: 'team/app',
      tag: '2',
      digest: SHA256,
    });
  });

  it('gives a digest-only reference no tag', () => {
    expect(parseReference(`app@${SHA256}`)).not.toHaveProperty('tag');
  });

  it('cuts a long input short in the message', () => {
    const error = caught(() => parseReference(`${'A'.repeat(1000)}:1`));
    expect(error.message.length).toBeLessThan(200);
  });
});

/**
 * Parses `text` the way skopeo's docker-archive transport does and returns whether it was accepted
 * and, when skopeo prints it, the normalised reference.
 */
function skopeoParse(archive: string, text: string): { valid: boolean; normalised?: string } {
  let stderr: string;
  try {
    execFileSync('skopeo', ['inspect', '--raw', `docker-archive:${archive}:${text}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return { valid: true };
  } catch (error) {
    stderr = String((error as { stderr?: Buffer }).stderr ?? '');
  }

  // A reference that parses still fails later, because its tag is not in the empty archive or
  // because the docker-archive transport takes no digests. Any other failure is a parse error.
  const parsed = /not found|does not include a tag|doesn't support digest references/.test(stderr);
  if (!parsed) {
    return { valid: false };
  }
  const notFound = /Tag \\"(.+?)\\" not found/.exec(stderr);
  return notFound?.[1] === undefined ? { valid: true } : { valid: true, normalised: notFound[1] };
}

describe('parseReference against skopeo', () => {
  // NOTE: skopeo 1.9.3 (Debian 12) carries an older copy of the distribution grammar that has no
  // IPv6 hosts and reads an upper-case first component as a path, so these cases differ there.
  const OLDER_GRAMMAR = new Set(['[::1]:5000/app:dev', '[2001:db8::1]/team/app', 'Registry/app']);
  let work: string;
  let archive: string;

  beforeAll(async () => {
    // An empty archive is enough: skopeo parses the reference before it looks for the image.
    work = await mkdtemp(path.join(os.tmpdir(), 'image-spec-reference-'));
    await writeFile(path.join(work, 'manifest.json'), '[]');
    archive = path.join(work, 'empty.tar');
    execFileSync('tar', ['--create', '--file', archive, '--directory', work, 'manifest.json']);
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it.each(VALID_REFERENCES.filter(([text]) => !OLDER_GRAMMAR.has(text)))(
    'accepts %s like skopeo',
    (text, expected) => {
      const result = skopeoParse(archive, text);
      expect(result.valid).toBe(true);
      if (result.normalised !== undefined) {
        expect(result.normalised).toBe(expected);
      }
    },
  );

  // skopeo reads an empty reference as none and a leading "@" as an archive index, so those
  // two cases do not reach its reference parser.
  it.each(INVALID_REFERENCES.filter(([text]) => text !== '' && !text.startsWith('@')))(
    'rejects %j like skopeo',
    (text) => {
      expect(skopeoParse(archive, text).valid).toBe(false);
    },
  );
});

describe('formatReference', () => {
  it.each([
    ['ubuntu'],
    ['localhost:5000/app:1'],
    ['[::1]:5000/app:dev'],
    [`app:1@${SHA256}`],
    [`example.com/team/app@${SHA512}`],
  ])('round-trips %s', (text) => {
    const reference = parseReference(text);
    expect(parseReference(formatReference(reference))).toEqual(reference);
  });
});

describe('formatFamiliarReference', () => {
  it.each<[ImageReference, string]>([
    [{ registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' }, 'ubuntu:latest'],
    [{ registry: 'docker.io', repository: 'team/app', tag: '1' }, 'team/app:1'],
    [{ registry: 'docker.io', repository: 'library/a/b', tag: '1' }, 'library/a/b:1'],
    [{ registry: 'localhost', repository: 'library/app', tag: '1' }, 'localhost/library/app:1'],
    [{ registry: 'docker.io', repository: 'library/app', digest: SHA256 }, `app@${SHA256}`],
  ])('formats %j as %s', (reference, expected) => {
    expect(formatFamiliarReference(reference)).toBe(expected);
  });
});

describe('parseRepoTag', () => {
  it.each([
    ['hello:2.12', 'hello', '2.12'],
    ['hello', 'hello', 'latest'],
    ['team/hello:1', 'team/hello', '1'],
    ['registry:5000/team/hello:1', 'registry:5000/team/hello', '1'],
    ['docker.io/library/hello:1', 'docker.io/library/hello', '1'],
    ['[::1]:5000/hello', '[::1]:5000/hello', 'latest'],
    [`hello:${TAG128}`, 'hello', TAG128],
  ])('parses %s without normalising', (text, repository, tag) => {
    expect(parseRepoTag(text)).toEqual({ repository, tag });
  });

  it.each([
    // A ":" must be followed by a tag.
    ['hello:', 'tag is empty after ":"'],
    // Repository names are lower case.
    ['Hello:1', 'repository name must be lowercase'],
    // Tags are at most 128 characters.
    [`hello:${TAG128}x`, 'tag must be at most 128 characters'],
    // Tags have no "!" or other punctuation besides "_", "." and "-".
    ['hello:1!', 'tag "1!" must contain only'],
    // Path components are lower-case letters, digits and separators.
    ['he llo:1', 'path component "he llo" must be'],
    // RepoTags name tags, so a digest has no place in them.
    [`hello@${SHA256}`, 'must not contain a digest'],
    // Nothing to parse.
    ['', 'reference is empty'],
  ])('rejects %j', (text, rule) => {
    const error = caught(() => parseRepoTag(text));
    expect(error.code).toBe('INVALID_REFERENCE');
    expect(error.message).toContain(rule);
  });
});
