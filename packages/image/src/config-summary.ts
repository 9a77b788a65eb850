import type { Platform } from '@storepack/image-spec';
import { asRecord } from './image-document.js';
import type { ManifestSummary } from './image-inspection.js';

/** The fields of a {@link ManifestSummary} that come from the image config. */
export type ConfigSummary = Pick<
  ManifestSummary,
  'platform' | 'created' | 'entrypoint' | 'cmd' | 'env' | 'workingDir' | 'user'
>;

/**
 * Picks the platform and run settings out of a parsed image config. A member of the wrong type is
 * left out rather than guessed at; the config validator reports it.
 */
export function summariseConfig(config: unknown): ConfigSummary {
  const record = asRecord(config);
  const run = asRecord(record?.config);
  return {
    platform: platformOf(record),
    created: stringOf(record?.created),
    entrypoint: stringsOf(run?.Entrypoint),
    cmd: stringsOf(run?.Cmd),
    env: stringsOf(run?.Env),
    workingDir: stringOf(run?.WorkingDir),
    user: stringOf(run?.User),
  };
}

/** Reads `os`, `architecture` and `variant` from a config or a descriptor's `platform`. */
export function platformOf(value: unknown): Platform | undefined {
  const record = asRecord(value);
  const os = stringOf(record?.os);
  const architecture = stringOf(record?.architecture);
  if (os === undefined || architecture === undefined) {
    return undefined;
  }
  const variant = stringOf(record?.variant);
  return variant === undefined || variant === ''
    ? { os, architecture }
    : { os, architecture, variant };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function stringsOf(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
    ? value
    : undefined;
}
