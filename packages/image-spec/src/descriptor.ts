import { Buffer } from 'node:buffer';
import { computeDigest, type Digest } from './digest.js';
import type { Platform } from './platform.js';

/** Platform of an index entry: the {@link Platform} fields plus the OCI-only OS details. */
export interface DescriptorPlatform extends Platform {
  /** Operating system version, used by Windows images, such as `10.0.17763.1040`. */
  'os.version'?: string;
  /** Required OS features, such as `win32k`. */
  'os.features'?: string[];
}

/** OCI content descriptor: what a blob is, its digest and its size, as manifests and indexes list them. */
export interface Descriptor {
  /** Media type of the referenced blob. */
  mediaType: string;
  /** Digest of the blob's bytes. */
  digest: Digest;
  /** Size of the blob in bytes. */
  size: number;
  /** Other locations from which the blob may be downloaded. */
  urls?: string[];
  /** Arbitrary metadata, keyed by reverse-domain names such as `org.opencontainers.image.ref.name`. */
  annotations?: Record<string, string>;
  /** The blob's bytes in base64, embedded for small blobs. */
  data?: string;
  /** Type of an artifact when the descriptor points to an artifact manifest. */
  artifactType?: string;
  /** Platform of the image an index entry points to. */
  platform?: DescriptorPlatform;
}

/**
 * Builds the descriptor of a blob from its bytes, computing digest and size. A string is taken
 * as its UTF-8 encoding, so pass exactly the bytes that are written.
 */
export function createDescriptor(
  mediaType: string,
  bytes: Uint8Array | string,
  extra: Omit<Descriptor, 'mediaType' | 'digest' | 'size'> = {},
): Descriptor {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.byteLength;
  return { mediaType, digest: computeDigest(bytes), size, ...extra };
}
