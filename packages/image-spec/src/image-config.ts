import { type Digest, isDigest } from './digest.js';
import { ImageSpecError, quoteShort } from './errors.js';
import { validateImageConfig } from './image-config-validation.js';
import type { Platform } from './platform.js';
import { formatIssue } from './validation.js';

/** Health check of a container config, with durations in nanoseconds as Docker stores them. */
export interface Healthcheck {
  /** Test command: `["NONE"]`, `["CMD", arg…]` or `["CMD-SHELL", command]`. */
  Test?: string[];
  /** Time between two checks, in nanoseconds. */
  Interval?: number;
  /** Time after which one check counts as failed, in nanoseconds. */
  Timeout?: number;
  /** Start-up time during which failures do not count, in nanoseconds. */
  StartPeriod?: number;
  /** Time between checks during the start period, in nanoseconds. */
  StartInterval?: number;
  /** Consecutive failures after which the container is unhealthy. */
  Retries?: number;
}

/** Execution parameters of the `config` member of an image config, as Docker and OCI name them. */
export interface ContainerConfig {
  /** User name or UID, optionally with `:group`, that the process runs as. */
  User?: string;
  /** Environment in `NAME=value` form. */
  Env?: string[];
  /** Executable and leading arguments. */
  Entrypoint?: string[];
  /** Default arguments, appended to the entry point. */
  Cmd?: string[];
  /** Working directory of the process. */
  WorkingDir?: string;
  /** Image labels. */
  Labels?: Record<string, string>;
  /** Exposed ports as keys such as `8080/tcp`, each with an empty object. */
  ExposedPorts?: Record<string, Record<string, never>>;
  /** Volume mount points as keys, each with an empty object. */
  Volumes?: Record<string, Record<string, never>>;
  /** Signal that stops the container, such as `SIGTERM`. */
  StopSignal?: string;
  /** Health check, a Docker extension that OCI runtimes ignore. */
  Healthcheck?: Healthcheck;
}

/** One entry of an image's history, describing how a layer or an empty step was made. */
export interface HistoryEntry {
  /** Creation time in RFC 3339. */
  created?: string;
  /** Command that created the layer. */
  created_by?: string;
  /** Author of the step. */
  author?: string;
  /** Free-form comment. */
  comment?: string;
  /** True when the step made no layer, so that no diff ID corresponds to it. */
  empty_layer?: boolean;
}

/** Image config in the Docker v1.2 and OCI v1 form that both runtimes read. */
export interface ImageConfig {
  /** CPU architecture in GOARCH terms. */
  architecture: string;
  /** CPU variant, such as `v8`. */
  variant?: string;
  /** Operating system in GOOS terms. */
  os: string;
  /** Creation time in RFC 3339. */
  created?: string;
  /** Author of the image. */
  author?: string;
  /** Execution parameters for containers started from the image. */
  config?: ContainerConfig;
  /** Layer diff IDs (digests of the uncompressed tars), base layer first. */
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  /** History, one entry per layer plus entries marked `empty_layer`. */
  history?: HistoryEntry[];
}

/**
 * Builds an image config for the given platform, layers and execution parameters. Raises
 * `INVALID_DIGEST` for a malformed diff ID and `INVALID_IMAGE_CONFIG` listing every issue that
 * {@link validateImageConfig} finds, such as an `Env` entry without `=`.
 */
export function createImageConfig(options: {
  platform: Platform;
  created: Date;
  diffIds: Digest[];
  config?: ContainerConfig;
  history?: HistoryEntry[];
}): ImageConfig {
  options.diffIds.forEach((diffId, index) => {
    if (!isDigest(diffId)) {
      throw new ImageSpecError(
        'INVALID_DIGEST',
        `creating image config: diff ID ${index} ${quoteShort(diffId)} is not a digest, expected "sha256:" followed by 64 lower-case hex digits`,
      );
    }
  });

  const imageConfig: ImageConfig = {
    architecture: options.platform.architecture,
    os: options.platform.os,
    created: formatCreated(options.created),
    rootfs: { type: 'layers', diff_ids: [...options.diffIds] },
  };
  if (options.platform.variant !== undefined) {
    imageConfig.variant = options.platform.variant;
  }
  if (options.config !== undefined) {
    imageConfig.config = options.config;
  }
  if (options.history !== undefined) {
    imageConfig.history = options.history;
  }

  // The builder never returns a config that its own validator would reject.
  const issues = validateImageConfig(imageConfig);
  if (issues.length > 0) {
    throw new ImageSpecError(
      'INVALID_IMAGE_CONFIG',
      `creating image config: ${issues.map(formatIssue).join('; ')}`,
    );
  }
  return imageConfig;
}

/**
 * Formats a time as RFC 3339 in UTC, such as `1970-01-01T00:00:01Z`, with milliseconds only when
 * they are not zero. Raises `INVALID_DATE` for an invalid date or a year outside 0000–9999.
 */
export function formatCreated(date: Date): string {
  const time = date.getTime();
  if (Number.isNaN(time)) {
    throw new ImageSpecError('INVALID_DATE', 'formatting created time: the date is invalid');
  }

  // toISOString writes years past 9999 or before 0 with a sign and six digits, which RFC 3339 lacks.
  const iso = date.toISOString();
  if (!/^\d{4}-/.test(iso)) {
    throw new ImageSpecError(
      'INVALID_DATE',
      `formatting created time: year of ${iso} is outside 0000-9999, which RFC 3339 cannot write`,
    );
  }
  return iso.replace(/\.000Z$/, 'Z');
}
