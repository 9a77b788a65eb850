import { computeDigest, type Digest, isDigest, parseDigest } from './digest.js';
import type { ImageFacts, LayerSlot } from './image-validation.js';
import { validateManifest } from './manifest-validation.js';
import { isNonDistributableMediaType, layerCompression } from './media-types.js';
import { type IssueCollector, indexPath, isRecord } from './validation.js';

/** Checks an OCI or Docker schema 2 manifest and its blobs, returning its layers when listed. */
export function checkOciImage(facts: ImageFacts, issues: IssueCollector): LayerSlot[] | undefined {
  issues.nest('manifest', validateManifest(facts.manifest));
  const manifest = isRecord(facts.manifest) ? facts.manifest : {};

  const config = isRecord(manifest.config) ? manifest.config : {};
  const configDigest = validDigest(config.digest);
  if (facts.config === undefined) {
    if (configDigest === undefined) {
      issues.add('config', 'missing config: expected the bytes of the image config, found none');
    } else {
      issues.add('manifest.config.digest', `expected config blob ${configDigest}, found none`);
    }
  } else if (configDigest !== undefined) {
    const actual = computeDigest(facts.config, parseDigest(configDigest).algorithm);
    if (actual !== configDigest) {
      issues.add(
        'manifest.config.digest',
        `expected ${actual}, the digest of the config bytes, found ${configDigest}`,
      );
    }
    if (validSize(config.size) && config.size !== facts.config.byteLength) {
      issues.add(
        'manifest.config.size',
        `expected ${facts.config.byteLength}, the size of the config bytes, found ${config.size}`,
      );
    }
  }

  if (!Array.isArray(manifest.layers)) {
    return undefined;
  }
  return manifest.layers.map((layer: unknown, index) => {
    const path = indexPath('manifest.layers', index);
    return checkLayerBlob(layer, path, facts.blobs, issues);
  });
}

/** Checks that the blob of one layer descriptor is present with the digest and size it states. */
function checkLayerBlob(
  layer: unknown,
  path: string,
  blobs: ImageFacts['blobs'],
  issues: IssueCollector,
): LayerSlot {
  const descriptor = isRecord(layer) ? layer : {};
  const digest = validDigest(descriptor.digest);
  if (digest === undefined) {
    return { path };
  }

  const mediaType = typeof descriptor.mediaType === 'string' ? descriptor.mediaType : '';
  const slot: LayerSlot =
    layerCompression(mediaType) === 'none' ? { path, uncompressedDigest: digest } : { path };
  const blob = blobs.get(digest);
  if (blob === undefined) {
    // A foreign layer with URLs is fetched from them, so a store may leave it out.
    const foreign =
      isNonDistributableMediaType(mediaType) &&
      Array.isArray(descriptor.urls) &&
      descriptor.urls.length > 0;
    if (!foreign) {
      issues.add(`${path}.digest`, `expected layer blob ${digest}, found none`);
    }
    return slot;
  }

  if (blob.digest !== undefined && blob.digest !== digest) {
    issues.add(
      `${path}.digest`,
      `expected the blob stored under ${digest} to have that digest, found bytes with digest ${blob.digest}`,
    );
  }
  if (validSize(descriptor.size) && descriptor.size !== blob.size) {
    issues.add(
      `${path}.size`,
      `expected ${blob.size}, the size of blob ${digest}, found ${descriptor.size}`,
    );
  }
  return slot;
}

function validDigest(value: unknown): Digest | undefined {
  return typeof value === 'string' && isDigest(value) ? value : undefined;
}

function validSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
