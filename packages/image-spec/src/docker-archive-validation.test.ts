import { describe, expect, it } from 'vitest';
import { validateDockerArchiveManifest } from './docker-archive-validation.js';

const CONFIG = `${'c'.repeat(64)}.json`;
const LAYER = `${'a'.repeat(64)}/layer.tar`;

/** Returns a valid one-image entry, to which each invalid case applies one change. */
function baseEntry(): Record<string, unknown> {
  return { Config: CONFIG, RepoTags: ['hello:2.12'], Layers: [LAYER] };
}

describe('validateDockerArchiveManifest', () => {
  it.each<[string, unknown]>([
    ['one tagged image', [baseEntry()]],
    ['an untagged image with null RepoTags', [{ ...baseEntry(), RepoTags: null }]],
    ['an image without RepoTags', [{ Config: CONFIG, Layers: [LAYER] }]],
    ['an image with no layers', [{ ...baseEntry(), Layers: [] }]],
    [
      'OCI-style blob paths',
      [{ ...baseEntry(), Config: 'blobs/sha256/cc', Layers: ['blobs/sha256/aa'] }],
    ],
    [
      'two images with different tags',
      [baseEntry(), { ...baseEntry(), RepoTags: ['registry:5000/team/hello:1', 'hello:latest'] }],
    ],
    ['one tag listed twice on one image', [{ ...baseEntry(), RepoTags: ['hello:1', 'hello:1'] }]],
  ])('accepts %s', (_name, doc) => {
    expect(validateDockerArchiveManifest(doc)).toEqual([]);
  });

  it.each<[string, unknown, string, string]>([
    // The manifest lists images, so it is an array.
    ['object document', baseEntry(), '', 'expected an array of image entries, found object'],
    // An archive that loads nothing is a mistake.
    ['empty array', [], '', 'expected at least one image entry'],
    // Each entry is an object.
    ['string entry', ['hello'], '[0]', 'expected an object, found string "hello"'],
    // Config names the config file.
    [
      'missing Config',
      [{ RepoTags: null, Layers: [LAYER] }],
      '[0].Config',
      'missing required path inside the archive',
    ],
    // Paths are relative to the archive root.
    [
      'absolute Config',
      [{ ...baseEntry(), Config: `/${CONFIG}` }],
      '[0].Config',
      'expected a path relative to the archive root',
    ],
    // ".." would leave the archive.
    [
      'layer path with ..',
      [{ ...baseEntry(), Layers: ['../etc/passwd'] }],
      '[0].Layers[0]',
      'no empty, "." or ".." component',
    ],
    // An empty component is a doubled "/".
    [
      'layer path with //',
      [{ ...baseEntry(), Layers: ['a//layer.tar'] }],
      '[0].Layers[0]',
      'no empty, "." or ".." component',
    ],
    // Layers lists paths even when there is only one.
    [
      'Layers string',
      [{ ...baseEntry(), Layers: LAYER }],
      '[0].Layers',
      'expected an array of layer paths',
    ],
    // Layers is required.
    [
      'missing Layers',
      [{ Config: CONFIG, RepoTags: null }],
      '[0].Layers',
      'missing required array',
    ],
    // Layer paths are strings.
    [
      'layer number',
      [{ ...baseEntry(), Layers: [1] }],
      '[0].Layers[0]',
      'expected a string, found number 1',
    ],
    // RepoTags is a list of tags.
    [
      'RepoTags string',
      [{ ...baseEntry(), RepoTags: 'hello:1' }],
      '[0].RepoTags',
      'expected an array',
    ],
    // Repository names are lower case.
    [
      'upper-case repository',
      [{ ...baseEntry(), RepoTags: ['Hello:1'] }],
      '[0].RepoTags[0]',
      'invalid reference "Hello:1": repository name must be lowercase',
    ],
    // A ":" must be followed by a tag.
    [
      'empty tag',
      [{ ...baseEntry(), RepoTags: ['hello:'] }],
      '[0].RepoTags[0]',
      'tag is empty after ":"',
    ],
    // RepoTags name tags, not digests.
    [
      'digest in RepoTags',
      [{ ...baseEntry(), RepoTags: [`hello@sha256:${'a'.repeat(64)}`] }],
      '[0].RepoTags[0]',
      'must not contain a digest',
    ],
    // One tag can name only one image.
    [
      'tag on two images',
      [baseEntry(), { ...baseEntry(), RepoTags: ['other:1', 'hello:2.12'] }],
      '[1].RepoTags[1]',
      'tag "hello:2.12" is already given to image [0]',
    ],
  ])('reports %s', (_name, doc, issuePath, message) => {
    const issues = validateDockerArchiveManifest(doc);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(issuePath);
    expect(issues[0]?.message).toContain(message);
  });

  it('reports every issue across entries', () => {
    const issues = validateDockerArchiveManifest([
      { Config: '', Layers: ['/a'] },
      { Config: CONFIG, Layers: [LAYER], RepoTags: ['A'] },
    ]);
    expect(issues.map((issue) => issue.path)).toEqual([
      '[0].Config',
      '[0].Layers[0]',
      '[1].RepoTags[0]',
    ]);
  });
});
