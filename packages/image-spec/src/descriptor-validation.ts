import { Buffer } from 'node:buffer';
import { computeDigest, type Digest, isDigest, parseDigest } from './digest.js';
import { describeValue, type IssueCollector, indexPath, memberPath } from './validation.js';

/** Media type as RFC 6838 restricts it: type and subtype of letters, digits and a few symbols. */
const MEDIA_TYPE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Checks an OCI descriptor at `path` and returns its media type when that is well-formed, so that
 * callers can check the type against where the descriptor is used.
 */
export function checkDescriptor(
  value: unknown,
  path: string,
  issues: IssueCollector,
  options: { requirePlatform?: boolean } = {},
): string | undefined {
  if (!issues.object(value, path)) {
    return undefined;
  }

  const mediaType = value.mediaType;
  if (mediaType === undefined) {
    issues.add(memberPath(path, 'mediaType'), 'missing required media type');
  } else if (
    issues.string(mediaType, memberPath(path, 'mediaType')) &&
    !MEDIA_TYPE.test(mediaType)
  ) {
    issues.add(
      memberPath(path, 'mediaType'),
      `expected a media type such as "application/vnd.oci.image.layer.v1.tar", found ${describeValue(mediaType)}`,
    );
  }

  const digestOk = typeof value.digest === 'string' && isDigest(value.digest);
  if (!digestOk) {
    issues.add(
      memberPath(path, 'digest'),
      `expected a digest such as "sha256:" followed by 64 lower-case hex digits, found ${describeValue(value.digest)}`,
    );
  }
  const sizeOk =
    typeof value.size === 'number' && Number.isSafeInteger(value.size) && value.size >= 0;
  if (!sizeOk) {
    issues.add(
      memberPath(path, 'size'),
      `expected a size in bytes (integer of at least 0), found ${describeValue(value.size)}`,
    );
  }

  if (value.urls !== undefined) {
    issues.stringArray(value.urls, memberPath(path, 'urls'));
  }
  checkAnnotations(value.annotations, memberPath(path, 'annotations'), issues);
  if (value.data !== undefined) {
    checkEmbeddedData(value, path, issues, digestOk && sizeOk);
  }
  if (value.platform !== undefined) {
    checkPlatform(value.platform, memberPath(path, 'platform'), issues);
  } else if (options.requirePlatform) {
    issues.add(memberPath(path, 'platform'), 'missing required platform');
  }
  return typeof mediaType === 'string' && MEDIA_TYPE.test(mediaType) ? mediaType : undefined;
}

/** Checks an optional map of annotations: string keys to string values. */
export function checkAnnotations(value: unknown, path: string, issues: IssueCollector): void {
  if (value === undefined || !issues.object(value, path)) {
    return;
  }
  for (const [key, annotation] of Object.entries(value)) {
    issues.string(annotation, memberPath(path, key));
  }
}

/** Checks embedded `data` against the descriptor's own size and digest. */
function checkEmbeddedData(
  descriptor: Record<string, unknown>,
  path: string,
  issues: IssueCollector,
  canCompare: boolean,
): void {
  const dataPath = memberPath(path, 'data');
  const data = descriptor.data;
  if (!issues.string(data, dataPath)) {
    return;
  }
  if (!BASE64.test(data)) {
    issues.add(dataPath, 'expected base64 with "=" padding');
    return;
  }
  if (!canCompare) {
    return;
  }

  const bytes = Buffer.from(data, 'base64');
  const digest = descriptor.digest as Digest;
  if (bytes.byteLength !== descriptor.size) {
    issues.add(
      dataPath,
      `expected ${descriptor.size} bytes as the size says, found ${bytes.byteLength}`,
    );
  } else if (computeDigest(bytes, parseDigest(digest).algorithm) !== digest) {
    issues.add(dataPath, 'expected bytes whose digest matches the descriptor digest');
  }
}

/** Checks the platform of an index entry. */
function checkPlatform(value: unknown, path: string, issues: IssueCollector): void {
  if (!issues.object(value, path)) {
    return;
  }
  issues.requiredString(value, 'architecture', path);
  issues.requiredString(value, 'os', path);
  issues.optionalString(value, 'variant', path);
  issues.optionalString(value, 'os.version', path);
  for (const key of ['os.features', 'features']) {
    if (value[key] !== undefined) {
      issues.stringArray(value[key], memberPath(path, key));
    }
  }
}

/** Checks a list of descriptors, passing each valid item's media type to `onMediaType`. */
export function checkDescriptorList(
  value: unknown,
  path: string,
  issues: IssueCollector,
  onMediaType: (mediaType: string, itemPath: string) => void,
  options: { requirePlatform?: boolean } = {},
): void {
  if (!Array.isArray(value)) {
    issues.add(path, `expected an array of descriptors, found ${describeValue(value)}`);
    return;
  }
  value.forEach((item: unknown, index) => {
    const itemPath = indexPath(path, index);
    const mediaType = checkDescriptor(item, itemPath, issues, options);
    if (mediaType !== undefined) {
      onMediaType(mediaType, memberPath(itemPath, 'mediaType'));
    }
  });
}
