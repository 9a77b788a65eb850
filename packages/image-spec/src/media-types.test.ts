import { describe, expect, it } from 'vitest';
import {
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  isNonDistributableMediaType,
  layerCompression,
  layerMediaType,
  MediaTypes,
} from './media-types.js';

describe('media type predicates', () => {
  it.each([
    [MediaTypes.ociLayer, 'none'],
    [MediaTypes.ociLayerGzip, 'gzip'],
    [MediaTypes.ociLayerZstd, 'zstd'],
    [MediaTypes.ociLayerNonDistributableGzip, 'gzip'],
    [MediaTypes.dockerLayer, 'none'],
    [MediaTypes.dockerLayerGzip, 'gzip'],
    [MediaTypes.dockerLayerZstd, 'zstd'],
    [MediaTypes.dockerLayerForeignGzip, 'gzip'],
  ])('reads %s as a %s layer', (mediaType, compression) => {
    expect(isLayerMediaType(mediaType)).toBe(true);
    expect(layerCompression(mediaType)).toBe(compression);
  });

  it.each([
    [MediaTypes.ociConfig],
    [MediaTypes.ociManifest],
    [MediaTypes.dockerManifestList],
    ['application/octet-stream'],
    ['toString'],
  ])('reads %s as no layer', (mediaType) => {
    expect(isLayerMediaType(mediaType)).toBe(false);
    expect(layerCompression(mediaType)).toBeUndefined();
  });

  it('tells manifests, indexes and configs apart', () => {
    expect(isManifestMediaType(MediaTypes.ociManifest)).toBe(true);
    expect(isManifestMediaType(MediaTypes.dockerManifest)).toBe(true);
    expect(isManifestMediaType(MediaTypes.ociIndex)).toBe(false);
    expect(isIndexMediaType(MediaTypes.ociIndex)).toBe(true);
    expect(isIndexMediaType(MediaTypes.dockerManifestList)).toBe(true);
    expect(isIndexMediaType(MediaTypes.ociManifest)).toBe(false);
    expect(isConfigMediaType(MediaTypes.ociConfig)).toBe(true);
    expect(isConfigMediaType(MediaTypes.dockerConfig)).toBe(true);
    expect(isConfigMediaType(MediaTypes.ociEmptyJson)).toBe(false);
  });

  it('marks non-distributable layers', () => {
    expect(isNonDistributableMediaType(MediaTypes.ociLayerNonDistributable)).toBe(true);
    expect(isNonDistributableMediaType(MediaTypes.dockerLayerForeignGzip)).toBe(true);
    expect(isNonDistributableMediaType(MediaTypes.ociLayerGzip)).toBe(false);
  });

  it.each([
    ['none', 'oci', MediaTypes.ociLayer],
    ['gzip', 'oci', MediaTypes.ociLayerGzip],
    ['zstd', 'oci', MediaTypes.ociLayerZstd],
    ['none', 'docker', MediaTypes.dockerLayer],
    ['gzip', 'docker', MediaTypes.dockerLayerGzip],
    ['zstd', 'docker', MediaTypes.dockerLayerZstd],
  ] as const)('names the %s %s layer type', (compression, family, expected) => {
    expect(layerMediaType(compression, family)).toBe(expected);
  });
});
