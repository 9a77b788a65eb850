import { type Digest, parseDigest } from './digest.js';

/** Contents of the `oci-layout` file at the root of an OCI image layout. */
export interface OciLayout {
  /** Version of the layout, `1.0.0` for every layout written so far. */
  imageLayoutVersion: '1.0.0';
}

/** Version written to the `oci-layout` file. */
export const OCI_LAYOUT_VERSION = '1.0.0';

/** Name of the file that marks a folder as an OCI image layout. */
export const OCI_LAYOUT_FILE = 'oci-layout';

/** Name of the index at the root of an OCI image layout. */
export const OCI_INDEX_FILE = 'index.json';

/** Returns the `oci-layout` file contents. */
export function createOciLayout(): OciLayout {
  return { imageLayoutVersion: OCI_LAYOUT_VERSION };
}

/**
 * Returns the path of a blob inside an OCI layout, such as `blobs/sha256/<hex>`, with "/" as
 * separator. Raises `INVALID_DIGEST` for a malformed digest, so the path cannot leave `blobs/`.
 */
export function blobPath(digest: Digest): string {
  const { algorithm, encoded } = parseDigest(digest);
  return `blobs/${algorithm}/${encoded}`;
}
