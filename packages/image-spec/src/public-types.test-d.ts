import { describe, expectTypeOf, it } from 'vitest';
import {
  type ContainerConfig,
  canonicalJson,
  computeDigest,
  createDescriptor,
  createImageConfig,
  createOciManifest,
  type Descriptor,
  type DescriptorPlatform,
  type Digest,
  type DigestAlgorithm,
  type DockerArchiveManifest,
  type DockerArchiveManifestEntry,
  type DockerManifest,
  formatIssue,
  formatReference,
  type Healthcheck,
  type HistoryEntry,
  type ImageConfig,
  type ImageFacts,
  type ImageReference,
  type ImageSpecError,
  type ImageSpecErrorCode,
  isDigest,
  MediaTypes,
  type OciIndex,
  type OciManifest,
  type Platform,
  parseDigest,
  parseReference,
  platformFromSystem,
  systemFromPlatform,
  type ValidationIssue,
  validateDockerArchiveManifest,
  validateImage,
  validateImageConfig,
  validateIndex,
  validateManifest,
  validateOciLayout,
} from './index.js';

// These tests run in the type checker only. Each pins a public type exactly, so that a change to
// a field's name, type or optionality fails `vitest run` until the test is updated on purpose.

describe('digests', () => {
  it('Digest is an algorithm, a colon and the hash', () => {
    expectTypeOf<DigestAlgorithm>().toEqualTypeOf<'sha256' | 'sha512'>();
    expectTypeOf<Digest>().toEqualTypeOf<`sha256:${string}` | `sha512:${string}`>();
    expectTypeOf<'sha256:0a1b'>().toExtend<Digest>();
    expectTypeOf<'md5:0a1b'>().not.toExtend<Digest>();
    expectTypeOf<string>().not.toExtend<Digest>();
  });

  it('digest functions keep their signatures', () => {
    expectTypeOf(computeDigest).toEqualTypeOf<
      (bytes: Uint8Array | string, algorithm?: DigestAlgorithm) => Digest
    >();
    expectTypeOf(parseDigest).toEqualTypeOf<
      (text: string) => { algorithm: DigestAlgorithm; encoded: string }
    >();
    expectTypeOf(isDigest).toEqualTypeOf<(text: string) => text is Digest>();
  });
});

describe('platforms and references', () => {
  it('Platform has os, architecture and variant', () => {
    expectTypeOf<Platform>().toEqualTypeOf<{
      os: string;
      architecture: string;
      variant?: string;
    }>();
    expectTypeOf(platformFromSystem).toEqualTypeOf<(system: string) => Platform>();
    expectTypeOf(systemFromPlatform).toEqualTypeOf<(platform: Platform) => string>();
  });

  it('ImageReference splits the grammar parts', () => {
    expectTypeOf<ImageReference>().toEqualTypeOf<{
      registry: string;
      repository: string;
      tag?: string;
      digest?: Digest;
    }>();
    expectTypeOf(parseReference).toEqualTypeOf<(text: string) => ImageReference>();
    expectTypeOf(formatReference).toEqualTypeOf<(ref: ImageReference) => string>();
  });
});

describe('image config', () => {
  it('ImageConfig has the Docker and OCI fields', () => {
    expectTypeOf<ImageConfig>().toEqualTypeOf<{
      architecture: string;
      variant?: string;
      os: string;
      created?: string;
      author?: string;
      config?: ContainerConfig;
      rootfs: { type: 'layers'; diff_ids: Digest[] };
      history?: HistoryEntry[];
    }>();
  });

  it('ContainerConfig has the execution parameters', () => {
    expectTypeOf<ContainerConfig>().toEqualTypeOf<{
      User?: string;
      Env?: string[];
      Entrypoint?: string[];
      Cmd?: string[];
      WorkingDir?: string;
      Labels?: Record<string, string>;
      ExposedPorts?: Record<string, Record<string, never>>;
      Volumes?: Record<string, Record<string, never>>;
      StopSignal?: string;
      Healthcheck?: Healthcheck;
    }>();
    expectTypeOf<Healthcheck>().toEqualTypeOf<{
      Test?: string[];
      Interval?: number;
      Timeout?: number;
      StartPeriod?: number;
      StartInterval?: number;
      Retries?: number;
    }>();
    expectTypeOf<HistoryEntry>().toEqualTypeOf<{
      created?: string;
      created_by?: string;
      author?: string;
      comment?: string;
      empty_layer?: boolean;
    }>();
  });

  it('createImageConfig takes platform, time and diff IDs', () => {
    expectTypeOf(createImageConfig).toEqualTypeOf<
      (options: {
        platform: Platform;
        created: Date;
        diffIds: Digest[];
        config?: ContainerConfig;
        history?: HistoryEntry[];
      }) => ImageConfig
    >();
  });
});

describe('archive and OCI documents', () => {
  it('DockerArchiveManifestEntry has Config, RepoTags and Layers', () => {
    expectTypeOf<DockerArchiveManifestEntry>().toEqualTypeOf<{
      Config: string;
      RepoTags: string[] | null;
      Layers: string[];
    }>();
    expectTypeOf<DockerArchiveManifest>().toEqualTypeOf<DockerArchiveManifestEntry[]>();
  });

  it('Descriptor has the OCI descriptor fields', () => {
    expectTypeOf<Descriptor>().toEqualTypeOf<{
      mediaType: string;
      digest: Digest;
      size: number;
      urls?: string[];
      annotations?: Record<string, string>;
      data?: string;
      artifactType?: string;
      platform?: DescriptorPlatform;
    }>();
    expectTypeOf<DescriptorPlatform>().toEqualTypeOf<{
      os: string;
      architecture: string;
      variant?: string;
      'os.version'?: string;
      'os.features'?: string[];
    }>();
    expectTypeOf(createDescriptor).toEqualTypeOf<
      (
        mediaType: string,
        bytes: Uint8Array | string,
        extra?: Omit<Descriptor, 'mediaType' | 'digest' | 'size'>,
      ) => Descriptor
    >();
  });

  it('OciManifest lists a config and layers', () => {
    expectTypeOf<OciManifest>().toEqualTypeOf<{
      schemaVersion: 2;
      mediaType?: 'application/vnd.oci.image.manifest.v1+json';
      artifactType?: string;
      config: Descriptor;
      layers: Descriptor[];
      subject?: Descriptor;
      annotations?: Record<string, string>;
    }>();
    expectTypeOf<DockerManifest>().toEqualTypeOf<{
      schemaVersion: 2;
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json';
      config: Descriptor;
      layers: Descriptor[];
    }>();
    expectTypeOf<OciIndex['manifests']>().toEqualTypeOf<Descriptor[]>();
    expectTypeOf(createOciManifest).returns.toEqualTypeOf<OciManifest>();
    expectTypeOf(
      MediaTypes.ociManifest,
    ).toEqualTypeOf<'application/vnd.oci.image.manifest.v1+json'>();
  });

  it('canonicalJson serialises any value to text', () => {
    expectTypeOf(canonicalJson).toEqualTypeOf<(value: unknown) => string>();
  });
});

describe('validation', () => {
  it('ValidationIssue is a path and a message', () => {
    expectTypeOf<ValidationIssue>().toEqualTypeOf<{ path: string; message: string }>();
    expectTypeOf(formatIssue).toEqualTypeOf<(issue: ValidationIssue) => string>();
  });

  it('document validators take unknown and return issues', () => {
    type DocumentValidator = (doc: unknown) => ValidationIssue[];
    expectTypeOf(validateImageConfig).toEqualTypeOf<DocumentValidator>();
    expectTypeOf(validateDockerArchiveManifest).toEqualTypeOf<DocumentValidator>();
    expectTypeOf(validateManifest).toEqualTypeOf<DocumentValidator>();
    expectTypeOf(validateIndex).toEqualTypeOf<DocumentValidator>();
    expectTypeOf(validateOciLayout).toEqualTypeOf<DocumentValidator>();
  });

  it('ImageFacts carries what an image reader found', () => {
    expectTypeOf<ImageFacts>().toEqualTypeOf<{
      format: 'docker-archive' | 'oci';
      manifest: unknown;
      config: Uint8Array | undefined;
      configName?: string;
      blobs: ReadonlyMap<string, { size: number; digest?: Digest }>;
      diffIds?: readonly (Digest | undefined)[];
    }>();
    expectTypeOf(validateImage).toEqualTypeOf<(facts: ImageFacts) => ValidationIssue[]>();
  });

  it('ImageSpecError carries a stable code', () => {
    expectTypeOf<ImageSpecErrorCode>().toEqualTypeOf<
      | 'INVALID_DIGEST'
      | 'DIGEST_FINISHED'
      | 'UNKNOWN_SYSTEM'
      | 'INVALID_PLATFORM'
      | 'INVALID_REFERENCE'
      | 'INVALID_LAYER_ID'
      | 'INVALID_DATE'
      | 'INVALID_IMAGE_CONFIG'
      | 'INVALID_JSON_VALUE'
    >();
    expectTypeOf<ImageSpecError['code']>().toEqualTypeOf<ImageSpecErrorCode>();
    expectTypeOf<ImageSpecError>().toExtend<Error>();
  });
});
