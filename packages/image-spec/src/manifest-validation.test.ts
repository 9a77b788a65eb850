import { describe, expect, it } from 'vitest';
import { computeDigest } from './digest.js';
import { validateIndex, validateManifest, validateOciLayout } from './manifest-validation.js';
import { MediaTypes } from './media-types.js';

const CONFIG = { mediaType: MediaTypes.ociConfig, digest: computeDigest('config'), size: 6 };
const LAYER = { mediaType: MediaTypes.ociLayerGzip, digest: computeDigest('layer'), size: 5 };
const MANIFEST = { mediaType: MediaTypes.ociManifest, digest: computeDigest('manifest'), size: 8 };
const PLATFORM = { os: 'linux', architecture: 'arm64', variant: 'v8' };

/** Returns a valid OCI manifest, to which each invalid case applies one change. */
function baseManifest(): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: CONFIG, layers: [LAYER] };
}

/** Returns a valid OCI index, to which each invalid case applies one change. */
function baseIndex(): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [{ ...MANIFEST, platform: PLATFORM }],
  };
}

describe('validateManifest', () => {
  it.each<[string, unknown]>([
    ['an OCI manifest', baseManifest()],
    ['an OCI manifest without mediaType', { ...baseManifest(), mediaType: undefined }],
    [
      'a Docker schema 2 manifest',
      {
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifest,
        config: { ...CONFIG, mediaType: MediaTypes.dockerConfig },
        layers: [{ ...LAYER, mediaType: MediaTypes.dockerLayerGzip }],
      },
    ],
    ['an image with no layers', { ...baseManifest(), layers: [] }],
    [
      'an artifact with its own config type',
      {
        ...baseManifest(),
        artifactType: 'application/vnd.example.sbom',
        config: { ...CONFIG, mediaType: MediaTypes.ociEmptyJson },
        layers: [{ ...LAYER, mediaType: 'application/spdx+json' }],
      },
    ],
    [
      'a descriptor with matching embedded data',
      { ...baseManifest(), config: { ...CONFIG, data: Buffer.from('config').toString('base64') } },
    ],
    [
      'a subject and annotations',
      { ...baseManifest(), subject: MANIFEST, annotations: { a: 'b' } },
    ],
  ])('accepts %s', (_name, doc) => {
    expect(validateManifest(doc)).toEqual([]);
  });

  it.each<[string, (manifest: Record<string, unknown>) => unknown, string, string]>([
    // A manifest is a JSON object.
    ['string document', () => 'manifest', '', 'expected an object'],
    // Both OCI and Docker manifests carry schemaVersion 2.
    [
      'schemaVersion 1',
      (m) => ({ ...m, schemaVersion: 1 }),
      'schemaVersion',
      'expected 2, found number 1',
    ],
    // An index is not a manifest.
    [
      'index media type',
      (m) => ({ ...m, mediaType: MediaTypes.ociIndex }),
      'mediaType',
      'expected "application/vnd.oci.image.manifest.v1+json"',
    ],
    // The config descriptor is required.
    ['missing config', ({ config: _, ...rest }) => rest, 'config', 'missing required descriptor'],
    // A layer type in the config slot makes the image unreadable.
    [
      'layer type as config',
      (m) => ({ ...m, config: { ...CONFIG, mediaType: MediaTypes.ociLayer } }),
      'config.mediaType',
      'expected an image config media type',
    ],
    // A config type in the layers list is not a layer.
    [
      'config type as layer',
      (m) => ({ ...m, layers: [LAYER, CONFIG] }),
      'layers[1].mediaType',
      'expected a layer media type',
    ],
    // layers is a list, even of one.
    [
      'layers object',
      (m) => ({ ...m, layers: LAYER }),
      'layers',
      'expected an array of descriptors',
    ],
    // A media type has a type and a subtype.
    [
      'media type without subtype',
      (m) => ({ ...m, layers: [{ ...LAYER, mediaType: 'tar' }] }),
      'layers[0].mediaType',
      'expected a media type such as',
    ],
    // A descriptor without a media type cannot be interpreted.
    [
      'missing media type',
      (m) => ({ ...m, layers: [{ digest: LAYER.digest, size: 5 }] }),
      'layers[0].mediaType',
      'missing required media type',
    ],
    // Digests carry their algorithm.
    [
      'digest without algorithm',
      (m) => ({ ...m, layers: [{ ...LAYER, digest: LAYER.digest.slice(7) }] }),
      'layers[0].digest',
      'expected a digest',
    ],
    // Sizes are whole bytes.
    [
      'fractional size',
      (m) => ({ ...m, layers: [{ ...LAYER, size: 1.5 }] }),
      'layers[0].size',
      'found number 1.5',
    ],
    // Sizes are not negative.
    [
      'negative size',
      (m) => ({ ...m, layers: [{ ...LAYER, size: -1 }] }),
      'layers[0].size',
      'found number -1',
    ],
    // Sizes are numbers, not strings.
    [
      'string size',
      (m) => ({ ...m, config: { ...CONFIG, size: '6' } }),
      'config.size',
      'found string "6"',
    ],
    // urls is a list of strings.
    [
      'urls string',
      (m) => ({ ...m, layers: [{ ...LAYER, urls: 'https://x' }] }),
      'layers[0].urls',
      'expected an array',
    ],
    // Annotation values are strings.
    [
      'annotation number',
      (m) => ({ ...m, annotations: { a: 1 } }),
      'annotations.a',
      'expected a string',
    ],
    // Embedded data is base64.
    [
      'data not base64',
      (m) => ({ ...m, config: { ...CONFIG, data: 'not base64!' } }),
      'config.data',
      'expected base64',
    ],
    // Embedded data has the size the descriptor states.
    [
      'data of wrong size',
      (m) => ({ ...m, config: { ...CONFIG, data: Buffer.from('conf').toString('base64') } }),
      'config.data',
      'expected 6 bytes as the size says, found 4',
    ],
    // Embedded data has the digest the descriptor states.
    [
      'data of wrong digest',
      (m) => ({ ...m, config: { ...CONFIG, data: Buffer.from('CONFIG').toString('base64') } }),
      'config.data',
      'expected bytes whose digest matches',
    ],
    // A subject is a descriptor.
    [
      'subject string',
      (m) => ({ ...m, subject: MANIFEST.digest }),
      'subject',
      'expected an object',
    ],
  ])('reports %s', (_name, change, issuePath, message) => {
    const issues = validateManifest(change(baseManifest()));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(issuePath);
    expect(issues[0]?.message).toContain(message);
  });
});

describe('validateIndex', () => {
  it.each<[string, unknown]>([
    ['an OCI index', baseIndex()],
    ['an OCI index entry without platform', { ...baseIndex(), manifests: [MANIFEST] }],
    ['an empty OCI index', { ...baseIndex(), manifests: [] }],
    [
      'a Docker manifest list',
      {
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifestList,
        manifests: [{ ...MANIFEST, mediaType: MediaTypes.dockerManifest, platform: PLATFORM }],
      },
    ],
  ])('accepts %s', (_name, doc) => {
    expect(validateIndex(doc)).toEqual([]);
  });

  it.each<[string, (index: Record<string, unknown>) => unknown, string, string]>([
    // An index is a JSON object.
    ['array document', () => [], '', 'expected an object, found array'],
    // Indexes carry schemaVersion 2.
    [
      'missing schemaVersion',
      ({ schemaVersion: _, ...rest }) => rest,
      'schemaVersion',
      'expected 2',
    ],
    // A manifest media type on an index is a mix-up.
    [
      'manifest media type',
      (i) => ({ ...i, mediaType: MediaTypes.ociManifest }),
      'mediaType',
      'expected "application/vnd.oci.image.index.v1+json"',
    ],
    // manifests is required.
    [
      'missing manifests',
      ({ manifests: _, ...rest }) => rest,
      'manifests',
      'expected an array of descriptors',
    ],
    // A platform names its architecture.
    [
      'platform without architecture',
      (i) => ({ ...i, manifests: [{ ...MANIFEST, platform: { os: 'linux' } }] }),
      'manifests[0].platform.architecture',
      'missing required string',
    ],
    // os.features is a list of strings.
    [
      'os.features string',
      (i) => ({
        ...i,
        manifests: [{ ...MANIFEST, platform: { ...PLATFORM, 'os.features': 'x' } }],
      }),
      'manifests[0].platform["os.features"]',
      'expected an array of strings',
    ],
    // Docker manifest lists give every entry a platform.
    [
      'Docker entry without platform',
      () => ({
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifestList,
        manifests: [{ ...MANIFEST, mediaType: MediaTypes.dockerManifest }],
      }),
      'manifests[0].platform',
      'missing required platform',
    ],
    // Docker manifest lists list Docker manifests only.
    [
      'OCI entry in Docker list',
      () => ({
        schemaVersion: 2,
        mediaType: MediaTypes.dockerManifestList,
        manifests: [{ ...MANIFEST, platform: PLATFORM }],
      }),
      'manifests[0].mediaType',
      'in a Docker manifest list',
    ],
  ])('reports %s', (_name, change, issuePath, message) => {
    const issues = validateIndex(change(baseIndex()));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe(issuePath);
    expect(issues[0]?.message).toContain(message);
  });
});

describe('validateOciLayout', () => {
  it('accepts version 1.0.0', () => {
    expect(validateOciLayout({ imageLayoutVersion: '1.0.0' })).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    // The only layout version is 1.0.0.
    ['version 2.0.0', { imageLayoutVersion: '2.0.0' }, 'imageLayoutVersion'],
    // The version is required.
    ['empty object', {}, 'imageLayoutVersion'],
    // The file contains a JSON object.
    ['string', '1.0.0', ''],
  ])('reports %s', (_name, doc, issuePath) => {
    const issues = validateOciLayout(doc);
    expect(issues.map((issue) => issue.path)).toEqual([issuePath]);
  });
});
