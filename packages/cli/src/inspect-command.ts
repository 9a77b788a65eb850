import { parseArgs } from 'node:util';
import { inspectImage } from '@storepack/image';
import { formatInspection, formatInspectionJson } from './inspect-output.js';
import { UsageError } from './usage-error.js';

/** Help text of `storepack inspect`. */
export const inspectHelp = `Usage: storepack inspect [OPTION]... IMAGE

Print a summary of the container image IMAGE and check it against the Docker and OCI
image formats. IMAGE is one of:
  - a docker-archive, as 'docker save', 'podman save', 'skopeo copy' and 'storepack build'
    write it, plain or gzip-compressed
  - an oci-archive: a tar of an OCI image layout
  - an OCI image layout folder, with oci-layout, index.json and blobs/
Every blob is hashed and every gzip or uncompressed layer's diff ID computed while the image is
read once from start to end. Layers are hashed as they stream past, not loaded into memory.

Options:
      --json    print one JSON object instead of text (see JSON output below)
  -h, --help    print this help

Text output:
  The format and references, then for each manifest: its digest (OCI only), tags,
  platform, config digest (the image ID), creation time, entry point, command,
  environment, working folder, user, layers (digest, size, media type and diff ID) and
  the total size of config and layers as stored. Then 'Valid: no issues found', or
  'Invalid: N issues' and one line per issue: 'path: message', where path starts with
  the file in the image, such as manifest.json[0].Layers[0] or blobs/sha256/<hex>.config.

JSON output:
  format           "docker-archive", "oci-archive" or "oci-layout"
  references       every tag: RepoTags, or org.opencontainers.image.ref.name annotations
  manifests[]      one per image manifest (per platform of a multi-platform image):
    digest           manifest digest, null in a docker-archive
    references       tags of this manifest
    platform         {"os", "architecture", "variant"?}
    configDigest     digest of the config blob
    created          creation time, RFC 3339
    entrypoint, cmd  arrays of strings
    env              array of "NAME=value"
    workingDir, user strings
    layers[]         {"digest", "mediaType", "size" (bytes as stored), "diffId"}
    totalSize        bytes of config and layers as stored
  issues[]         {"path", "message"}, empty for a valid image
  A value that cannot be read from the image is null.

Exit status:
  0  the image is valid
  1  the image has issues (printed with the summary), or it cannot be read (one line on
     standard error)
  2  the command line is invalid

Examples:
  storepack inspect hello.tar
  storepack inspect --json ./hello-oci | jq '.manifests[].platform'
  skopeo copy docker-archive:hello.tar oci-archive:hello-oci.tar && storepack inspect hello-oci.tar
`;

/** Runs `storepack inspect` with the arguments after the command name; returns the exit status. */
export async function runInspect(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(inspectHelp);
    return 0;
  }

  const [image, ...extra] = positionals;
  if (image === undefined) {
    throw new UsageError('inspect: no image given (see storepack inspect --help)');
  }
  if (extra.length > 0) {
    throw new UsageError(
      `inspect: expected one image, found ${positionals.length}: ${positionals.join(' ')}`,
    );
  }

  const inspection = await inspectImage(image);
  process.stdout.write(
    values.json ? formatInspectionJson(inspection) : formatInspection(inspection),
  );
  return inspection.issues.length === 0 ? 0 : 1;
}
