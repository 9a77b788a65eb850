import { checkAnnotations, checkDescriptor, checkDescriptorList } from './descriptor-validation.js';
import {
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
  MediaTypes,
} from './media-types.js';
import { describeValue, IssueCollector, type ValidationIssue } from './validation.js';

/**
 * Checks an image manifest, OCI or Docker schema 2, and returns every issue found with its JSON
 * path. Without `artifactType`, the config and layers must have image config and layer media types.
 */
export function validateManifest(doc: unknown): ValidationIssue[] {
  const issues = new IssueCollector();
  if (!issues.object(doc, '')) {
    return issues.issues;
  }

  checkSchemaVersion(doc.schemaVersion, issues);
  const isDocker = doc.mediaType === MediaTypes.dockerManifest;
  // OCI allows a manifest without mediaType, which Docker's schema 2 requires, so none means OCI.
  if (
    doc.mediaType !== undefined &&
    (typeof doc.mediaType !== 'string' || !isManifestMediaType(doc.mediaType))
  ) {
    issues.add(
      'mediaType',
      `expected "${MediaTypes.ociManifest}" or "${MediaTypes.dockerManifest}", found ${describeValue(doc.mediaType)}`,
    );
  }
  issues.optionalString(doc, 'artifactType', '');
  const isImage = doc.artifactType === undefined;

  if (doc.config === undefined) {
    issues.add('config', 'missing required descriptor of the image config');
  } else {
    const configType = checkDescriptor(doc.config, 'config', issues);
    if (isImage && configType !== undefined && !isConfigMediaType(configType)) {
      issues.add(
        'config.mediaType',
        `expected an image config media type such as "${isDocker ? MediaTypes.dockerConfig : MediaTypes.ociConfig}", found ${describeValue(configType)}`,
      );
    }
  }

  checkDescriptorList(doc.layers, 'layers', issues, (mediaType, path) => {
    if (isImage && !isLayerMediaType(mediaType)) {
      issues.add(
        path,
        `expected a layer media type such as "${MediaTypes.ociLayerGzip}", found ${describeValue(mediaType)}`,
      );
    }
  });
  if (doc.subject !== undefined) {
    checkDescriptor(doc.subject, 'subject', issues);
  }
  checkAnnotations(doc.annotations, 'annotations', issues);
  return issues.issues;
}

/**
 * Checks an image index, OCI or Docker manifest list, and returns every issue found with its JSON
 * path. Docker manifest lists need a platform on every entry.
 */
export function validateIndex(doc: unknown): ValidationIssue[] {
  const issues = new IssueCollector();
  if (!issues.object(doc, '')) {
    return issues.issues;
  }

  checkSchemaVersion(doc.schemaVersion, issues);
  const isDocker = doc.mediaType === MediaTypes.dockerManifestList;
  if (
    doc.mediaType !== undefined &&
    (typeof doc.mediaType !== 'string' || !isIndexMediaType(doc.mediaType))
  ) {
    issues.add(
      'mediaType',
      `expected "${MediaTypes.ociIndex}" or "${MediaTypes.dockerManifestList}", found ${describeValue(doc.mediaType)}`,
    );
  }
  issues.optionalString(doc, 'artifactType', '');

  checkDescriptorList(
    doc.manifests,
    'manifests',
    issues,
    (mediaType, path) => {
      // An OCI index may also list artifacts, so only a Docker list restricts entry types.
      if (isDocker && mediaType !== MediaTypes.dockerManifest) {
        issues.add(
          path,
          `expected "${MediaTypes.dockerManifest}" in a Docker manifest list, found ${describeValue(mediaType)}`,
        );
      }
    },
    { requirePlatform: isDocker },
  );
  if (doc.subject !== undefined) {
    checkDescriptor(doc.subject, 'subject', issues);
  }
  checkAnnotations(doc.annotations, 'annotations', issues);
  return issues.issues;
}

/** Checks the `oci-layout` file of an OCI image layout. */
export function validateOciLayout(doc: unknown): ValidationIssue[] {
  const issues = new IssueCollector();
  if (issues.object(doc, '') && doc.imageLayoutVersion !== '1.0.0') {
    issues.add(
      'imageLayoutVersion',
      `expected "1.0.0", found ${describeValue(doc.imageLayoutVersion)}`,
    );
  }
  return issues.issues;
}

function checkSchemaVersion(value: unknown, issues: IssueCollector): void {
  if (value !== 2) {
    issues.add('schemaVersion', `expected 2, found ${describeValue(value)}`);
  }
}
