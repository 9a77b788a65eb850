import { type ImageFacts, type ValidationIssue, validateImage } from '@storepack/image-spec';
import { locate } from './image-document.js';

/** The files that a manifest's and its config's issues are reported in. */
export interface FactLocations {
  /** The manifest, such as `manifest.json[0]` or `blobs/sha256/<hex>`. */
  manifest: string;
  /** The config file, undefined when the manifest names none that could be found. */
  config: string | undefined;
  /** True when the config file exists but could not be parsed, which the reader has reported. */
  configUnreadable: boolean;
}

/**
 * Validates one manifest with its config and blobs, and moves each issue from the `manifest` and
 * `config` paths of `validateImage` to the file it is in, such as `manifest.json[0].Layers[1]`.
 */
export function checkImageFacts(facts: ImageFacts, locations: FactLocations): ValidationIssue[] {
  return validateImage(facts)
    .filter((issue) => !(locations.configUnreadable && saysConfigMissing(issue)))
    .map(({ path, message }) => ({ path: relocate(path, locations), message }));
}

/**
 * Checks whether an issue reports the config as missing. `validateImage` gets no config bytes for
 * a config that exists but is not a JSON document, so such an issue would be false.
 */
function saysConfigMissing(issue: ValidationIssue): boolean {
  const atConfig = ['config', 'manifest.Config', 'manifest.config.digest'].includes(issue.path);
  return atConfig && /found (none|no such file)$/.test(issue.message);
}

/** Replaces the leading `manifest` or `config` of an issue path with the file it stands for. */
function relocate(path: string, locations: FactLocations): string {
  const match = /^(manifest|config)(?=$|[.[])/.exec(path);
  if (match === null) {
    return locate(locations.manifest, path);
  }

  const rest = path.slice(match[0].length).replace(/^\./, '');
  if (match[1] === 'manifest') {
    return locate(locations.manifest, rest);
  }
  return locations.config === undefined
    ? locate(locations.manifest, path)
    : locate(locations.config, rest);
}
