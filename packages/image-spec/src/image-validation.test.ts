import { Buffer } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { createDescriptor, type Descriptor } from './descriptor.js';
import { computeDigest, type Digest, parseDigest } from './digest.js';
import type { DockerArchiveManifestEntry } from './docker-archive.js';
import { createImageConfig } from './image-config.js';
import { type ImageFacts, validateImage } from './image-validation.js';
import { MediaTypes } from './media-types.js';
import { createOciManifest, type OciManifest } from './oci-manifest.js';
import { platformFromSystem } from './platform.js';

// Two layers: the first stored uncompressed, the second gzip-compressed in OCI images.
const LAYER_TARS = [Buffer.from('tar of the base layer'), Buffer.from('tar of the top layer')];
const DIFF_IDS = LAYER_TARS.map((tar) => computeDigest(tar));
const GZIP_LAYER = gzipSync(LAYER_TARS[1] ?? Buffer.alloc(0));
const OTHER_DIGEST = computeDigest('something else');
const OTHER_CONFIG_NAME = 'other.json';

/** Serialises an image config listing `diffIds`, as a writer stores it. */
function configBytes(diffIds: Digest[] = DIFF_IDS): Buffer {
  const config = createImageConfig({
    platform: platformFromSystem('x86_64-linux'),
    created: new Date(1000),
    diffIds,
    config: { Cmd: ['/gnu/store/aaaa-hello-2.12/bin/hello'] },
  });
  return Buffer.from(canonicalJson(config));
}

/** Returns a blob map entry with the size and digest of `bytes`. */
function blob(bytes: Uint8Array): { size: number; digest: Digest } {
  return { size: bytes.byteLength, digest: computeDigest(bytes) };
}

/** Returns the facts of a valid OCI image, to which each invalid case applies one change. */
function ociFacts(): ImageFacts {
  const config = configBytes();
  const layers = [LAYER_TARS[0] ?? Buffer.alloc(0), GZIP_LAYER];
  const manifest = createOciManifest({
    config: createDescriptor(MediaTypes.ociConfig, config),
    layers: [
      createDescriptor(MediaTypes.ociLayer, layers[0] ?? Buffer.alloc(0)),
      createDescriptor(MediaTypes.ociLayerGzip, GZIP_LAYER),
    ],
  });
  const blobs = new Map(
    [config, ...layers].map((bytes) => [computeDigest(bytes) as string, blob(bytes)]),
  );
  return { format: 'oci', manifest, config, blobs, diffIds: DIFF_IDS };
}

/** Reads the manifest of OCI facts built by {@link ociFacts}. */
function ociManifest(facts: ImageFacts): OciManifest {
  return facts.manifest as OciManifest;
}

/** Replaces the config bytes and keeps the manifest's config descriptor in step with them. */
function withOciConfig(facts: ImageFacts, config: Uint8Array): ImageFacts {
  const manifest = ociManifest(facts);
  const descriptor = createDescriptor(MediaTypes.ociConfig, config);
  return { ...facts, config, manifest: { ...manifest, config: descriptor } };
}

/** Replaces one layer descriptor of OCI facts. */
function withOciLayer(facts: ImageFacts, index: number, change: Partial<Descriptor>): ImageFacts {
  const manifest = ociManifest(facts);
  const layers = manifest.layers.map((layer, i) => (i === index ? { ...layer, ...change } : layer));
  return { ...facts, manifest: { ...manifest, layers } };
}

/** Replaces one blob map entry. */
function withBlob(facts: ImageFacts, key: string, entry?: { size: number; digest?: Digest }) {
  const blobs = new Map(facts.blobs);
  if (entry === undefined) {
    blobs.delete(key);
  } else {
    blobs.set(key, entry);
  }
  return { ...facts, blobs };
}

/** Returns the facts of a valid `docker save` archive with legacy `<id>/layer.tar` names. */
function archiveFacts(): ImageFacts {
  const config = configBytes();
  const configName = `${parseDigest(computeDigest(config)).encoded}.json`;
  const layerNames = ['a'.repeat(64), 'b'.repeat(64)].map((id) => `${id}/layer.tar`);
  const manifest: DockerArchiveManifestEntry = {
    Config: configName,
    RepoTags: ['hello:2.12'],
    Layers: layerNames,
  };
  const blobs = new Map<string, { size: number; digest?: Digest }>([
    [configName, blob(config)],
    ...layerNames.map((name, i) => [name, blob(LAYER_TARS[i] ?? Buffer.alloc(0))] as const),
  ]);
  return { format: 'docker-archive', manifest, config, configName, blobs, diffIds: DIFF_IDS };
}

/** Returns archive facts laid out as Docker 25 writes them, with `blobs/sha256/<hex>` names. */
function blobArchiveFacts(): ImageFacts {
  const config = configBytes();
  const name = (bytes: Uint8Array) => `blobs/sha256/${parseDigest(computeDigest(bytes)).encoded}`;
  const layerNames = LAYER_TARS.map(name);
  const manifest: DockerArchiveManifestEntry = {
    Config: name(config),
    RepoTags: null,
    Layers: layerNames,
  };
  const blobs = new Map<string, { size: number; digest?: Digest }>([
    [name(config), blob(config)],
    ...LAYER_TARS.map((tar) => [name(tar), blob(tar)] as const),
  ]);
  return { format: 'docker-archive', manifest, config, configName: name(config), blobs };
}

/** Reads the manifest entry of archive facts. */
function archiveEntry(facts: ImageFacts): DockerArchiveManifestEntry {
  return facts.manifest as DockerArchiveManifestEntry;
}

const FOREIGN_LAYER = Buffer.from('tar of a layer served from its URL');

describe('validateImage', () => {
  it.each<[string, () => ImageFacts]>([
    ['an OCI image', ociFacts],
    ['an OCI image without computed diff IDs', () => ({ ...ociFacts(), diffIds: undefined })],
    [
      'an OCI image with one computed diff ID',
      () => ({ ...ociFacts(), diffIds: [undefined, DIFF_IDS[1]] }),
    ],
    [
      'an OCI image with no layers',
      () => {
        const facts = withOciConfig(ociFacts(), configBytes([]));
        return { ...facts, manifest: { ...ociManifest(facts), layers: [] }, diffIds: [] };
      },
    ],
    [
      'a foreign layer left out of the store',
      () => {
        const facts = withOciConfig(ociFacts(), configBytes([computeDigest(FOREIGN_LAYER)]));
        const foreign = createDescriptor(MediaTypes.ociLayerNonDistributable, FOREIGN_LAYER, {
          urls: ['https://example.com/layer.tar'],
        });
        return { ...facts, manifest: { ...ociManifest(facts), layers: [foreign] }, diffIds: [] };
      },
    ],
    [
      'a Docker schema 2 manifest',
      () => {
        const facts = ociFacts();
        const manifest = ociManifest(facts);
        return {
          ...facts,
          manifest: {
            schemaVersion: 2,
            mediaType: MediaTypes.dockerManifest,
            config: { ...manifest.config, mediaType: MediaTypes.dockerConfig },
            layers: [
              { ...manifest.layers[0], mediaType: MediaTypes.dockerLayer },
              { ...manifest.layers[1], mediaType: MediaTypes.dockerLayerGzip },
            ],
          },
        };
      },
    ],
    ['a docker-archive with legacy names', archiveFacts],
    [
      'a docker-archive without computed diff IDs',
      () => ({ ...archiveFacts(), diffIds: undefined }),
    ],
    ['a docker-archive with blobs/ names', blobArchiveFacts],
  ])('accepts %s', (_name, facts) => {
    expect(validateImage(facts())).toEqual([]);
  });

  it.each<[string, () => ImageFacts, [path: string, message: string][]]>([
    // The manifest is a JSON object, so neither its config nor its layers can be found.
    [
      'OCI manifest not an object',
      () => ({ ...ociFacts(), manifest: 'manifest' }),
      [['manifest', 'expected an object, found string "manifest"']],
    ],
    // Document issues keep their path inside the manifest.
    [
      'OCI layer of negative size',
      () => withOciLayer(ociFacts(), 0, { size: -1 }),
      [['manifest.layers[0].size', 'found number -1']],
    ],
    // A layer media type in the config slot makes the image unreadable.
    [
      'layer type as config',
      () => {
        const facts = ociFacts();
        const manifest = ociManifest(facts);
        const config = { ...manifest.config, mediaType: MediaTypes.ociLayer };
        return { ...facts, manifest: { ...manifest, config } };
      },
      [['manifest.config.mediaType', 'expected an image config media type']],
    ],
    // The config named by the manifest must be in the store.
    [
      'OCI config missing',
      () => ({ ...ociFacts(), config: undefined }),
      [['manifest.config.digest', 'expected config blob sha256:']],
    ],
    // Bytes with another digest are another config, even at the same size.
    [
      'OCI config of another digest',
      () => ({
        ...ociFacts(),
        config: Buffer.from(configBytes().toString().replace('amd64', 'arm64')),
      }),
      [['manifest.config.digest', ', the digest of the config bytes, found sha256:']],
    ],
    // The descriptor size must be the config's byte count.
    [
      'OCI config size off by one',
      () => {
        const facts = ociFacts();
        const manifest = ociManifest(facts);
        const config = { ...manifest.config, size: manifest.config.size + 1 };
        return { ...facts, manifest: { ...manifest, config } };
      },
      [
        [
          'manifest.config.size',
          `expected ${configBytes().length}, the size of the config bytes, found ${configBytes().length + 1}`,
        ],
      ],
    ],
    // A config that is not JSON cannot be read.
    [
      'config not JSON',
      () => withOciConfig(ociFacts(), Buffer.from('{"architecture":')),
      [['config', 'expected a UTF-8 JSON document, found bytes that do not parse']],
    ],
    // JSON text is UTF-8, and 0xff never occurs in UTF-8.
    [
      'config not UTF-8',
      () => withOciConfig(ociFacts(), Buffer.from([0x7b, 0xff, 0x7d])),
      [['config', 'expected a UTF-8 JSON document']],
    ],
    // Go's encoding/json, which Docker and containerd use, rejects a byte order mark.
    [
      'config with a byte order mark',
      () =>
        withOciConfig(ociFacts(), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), configBytes()])),
      [['config', 'expected a UTF-8 JSON document']],
    ],
    // Document issues keep their path inside the config.
    [
      'config without architecture',
      () => {
        const doc = JSON.parse(configBytes().toString());
        delete doc.architecture;
        return withOciConfig(ociFacts(), Buffer.from(JSON.stringify(doc)));
      },
      [['config.architecture', 'missing required string']],
    ],
    // Every layer the manifest lists must be in the store.
    [
      'OCI layer blob missing',
      () => withBlob(ociFacts(), computeDigest(GZIP_LAYER)),
      [
        [
          'manifest.layers[1].digest',
          `expected layer blob ${computeDigest(GZIP_LAYER)}, found none`,
        ],
      ],
    ],
    // A truncated blob has fewer bytes than its descriptor states.
    [
      'OCI layer blob truncated',
      () => withBlob(ociFacts(), computeDigest(GZIP_LAYER), { size: 10 }),
      [
        [
          'manifest.layers[1].size',
          `expected 10, the size of blob ${computeDigest(GZIP_LAYER)}, found ${GZIP_LAYER.length}`,
        ],
      ],
    ],
    // A blob whose bytes hash to another digest is corrupt.
    [
      'OCI layer blob corrupt',
      () => {
        const key = computeDigest(LAYER_TARS[0] ?? '');
        return withBlob(ociFacts(), key, {
          size: LAYER_TARS[0]?.length ?? 0,
          digest: OTHER_DIGEST,
        });
      },
      [['manifest.layers[0].digest', `found bytes with digest ${OTHER_DIGEST}`]],
    ],
    // The config lists one diff ID per layer.
    [
      'one diff ID for two layers',
      () => withOciConfig(ociFacts(), configBytes(DIFF_IDS.slice(0, 1))),
      [
        [
          'config.rootfs.diff_ids',
          'expected 2 diff IDs, one per layer in manifest.layers, found 1',
        ],
      ],
    ],
    // A diff ID must be the digest of the uncompressed tar the reader hashed.
    [
      'diff ID unlike the computed one',
      () => withOciConfig(ociFacts(), configBytes([DIFF_IDS[0] ?? OTHER_DIGEST, OTHER_DIGEST])),
      [
        [
          'config.rootfs.diff_ids[1]',
          `expected ${DIFF_IDS[1]}, the diff ID computed from layer manifest.layers[1], found ${OTHER_DIGEST}`,
        ],
      ],
    ],
    // An uncompressed layer's digest is its diff ID, even when the reader computed none.
    [
      'diff ID unlike the uncompressed layer digest',
      () => ({
        ...withOciConfig(ociFacts(), configBytes([OTHER_DIGEST, DIFF_IDS[1] ?? OTHER_DIGEST])),
        diffIds: undefined,
      }),
      [['config.rootfs.diff_ids[0]', 'the digest of uncompressed layer manifest.layers[0]']],
    ],
    // Layers apply in order, so diff IDs in another order describe another file system.
    [
      'layers in another order than the diff IDs',
      () => withOciConfig(ociFacts(), configBytes([...DIFF_IDS].reverse())),
      [
        [
          'config.rootfs.diff_ids[0]',
          'listed at config.rootfs.diff_ids[1], so the layers and diff IDs are in different orders',
        ],
        ['config.rootfs.diff_ids[1]', 'listed at config.rootfs.diff_ids[0]'],
      ],
    ],
    // The whole manifest.json is an array, but the facts carry one entry of it.
    [
      'archive manifest passed as the whole file',
      () => ({ ...archiveFacts(), manifest: [archiveEntry(archiveFacts())] }),
      [['manifest', 'expected an object, found array']],
    ],
    // Document issues keep their path inside the entry.
    [
      'archive layer path not a string',
      () => {
        const entry = archiveEntry(archiveFacts());
        return { ...archiveFacts(), manifest: { ...entry, Layers: [7, entry.Layers[1]] } };
      },
      [['manifest.Layers[0]', 'expected a string, found number 7']],
    ],
    // The config file named by the entry must be in the archive.
    [
      'archive config file missing',
      () => ({ ...archiveFacts(), config: undefined }),
      [
        [
          'manifest.Config',
          `expected config file "${archiveEntry(archiveFacts()).Config}" in the archive, found no such file`,
        ],
      ],
    ],
    // Without a Config member there is no config to read.
    [
      'archive entry without Config',
      () => {
        const { Config: _, ...entry } = archiveEntry(archiveFacts());
        return { ...archiveFacts(), manifest: entry, config: undefined, configName: undefined };
      },
      [
        ['manifest.Config', 'missing required path inside the archive'],
        ['config', 'missing config: expected the bytes of the image config, found none'],
      ],
    ],
    // Config bytes from another file than the entry names are another image's.
    [
      'archive config read from another file',
      () => ({ ...archiveFacts(), configName: OTHER_CONFIG_NAME }),
      [['manifest.Config', `found it read from ${JSON.stringify(OTHER_CONFIG_NAME)}`]],
    ],
    // Every layer file the entry lists must be in the archive.
    [
      'archive layer file missing',
      () => withBlob(archiveFacts(), archiveEntry(archiveFacts()).Layers[1] ?? ''),
      [['manifest.Layers[1]', 'expected layer file "bbbb']],
    ],
    // A config file named after a digest must have that digest.
    [
      'archive blobs/ config of another digest',
      () => ({ ...blobArchiveFacts(), config: configBytes([...DIFF_IDS].reverse()) }),
      [['manifest.Config', 'to have digest sha256:']],
    ],
    // A layer file named after a digest must have that digest.
    [
      'archive blobs/ layer of another digest',
      () => {
        const name = archiveEntry(blobArchiveFacts()).Layers[0] ?? '';
        return withBlob(blobArchiveFacts(), name, { size: 1, digest: OTHER_DIGEST });
      },
      [['manifest.Layers[0]', `found ${OTHER_DIGEST}`]],
    ],
    // The config lists one diff ID per layer file.
    [
      'archive with three diff IDs for two layers',
      () => {
        const config = configBytes([...DIFF_IDS, OTHER_DIGEST]);
        return { ...archiveFacts(), config };
      },
      [
        [
          'config.rootfs.diff_ids',
          'expected 2 diff IDs, one per layer in manifest.Layers, found 3',
        ],
      ],
    ],
    // A diff ID must be the digest of the layer tar the reader hashed.
    [
      'archive diff ID unlike the computed one',
      () => ({ ...archiveFacts(), diffIds: [OTHER_DIGEST, DIFF_IDS[1]] }),
      [
        [
          'config.rootfs.diff_ids[0]',
          `expected ${OTHER_DIGEST}, the diff ID computed from layer manifest.Layers[0], found ${DIFF_IDS[0]}`,
        ],
      ],
    ],
  ])('reports %s', (_name, facts, expected) => {
    const issues = validateImage(facts());
    expect(issues.map((issue) => issue.path)).toEqual(expected.map(([path]) => path));
    issues.forEach((issue, index) => {
      expect(issue.message).toContain(expected[index]?.[1]);
      expect(issue.message).toMatch(/expected .*found|^missing required/);
    });
  });
});
