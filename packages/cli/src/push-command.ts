import { parseArgs } from 'node:util';
import { pushImage } from '@storepack/image';
import { withInterruption } from './interruption.js';
import { formatPushResult } from './push-output.js';
import { stderrLogger } from './stderr-logger.js';
import { UsageError } from './usage-error.js';

/** Help text of `storepack push`. */
export const pushHelp = `Usage: storepack push [OPTION]... IMAGE REFERENCE

Send the container image IMAGE to a registry over the OCI distribution API, as
REFERENCE, such as 127.0.0.1:5000/team/hello:1. IMAGE is a docker-archive (as
'storepack build' writes it), an oci-archive or an OCI image layout folder.

REFERENCE must name the registry host: 'hello:1' alone is rejected, so that nothing
goes to Docker Hub by accident. Blobs the repository already has are not sent again,
and blobs of another repository named with --mount-from, or pushed earlier by the same
command, are mounted instead of uploaded. A docker-archive becomes an OCI image
manifest, or a Docker schema 2 manifest when the registry rejects OCI.

Options:
      --insecure-registry HOST[:PORT]
                            reach HOST over plain HTTP instead of HTTPS with verified
                            certificates; without a port, any port of HOST; may be repeated
      --mount-from REPOSITORY
                            try to mount blobs from REPOSITORY of the same registry, such as
                            team/base; may be repeated
      --chunk-size SIZE     upload blobs larger than SIZE in chunks of SIZE, in bytes or with
                            a K, M or G suffix (default: 16M)
      --json                print the result as one JSON object
  -h, --help                print this help

Credentials:
  Read from the 'auths' entry for the registry in the first of these files that has one:
  $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
  ~/.config/containers/auth.json, ~/.docker/config.json ('podman login' and
  'docker login' write them). Credential helpers (credHelpers, credsStore) are not run.
  Credentials are never printed.

Output:
  The reference, the manifest digest and how many blobs were pushed, skipped (already
  in the repository) and mounted. With --json: {"reference", "manifestDigest",
  "manifestMediaType", "blobs": [{"digest", "size", "status"}]}.

Exit status:
  0  the image is in the registry
  1  the push failed (one line on standard error)
  2  the command line is invalid, such as a REFERENCE without a registry host

Examples:
  storepack push --insecure-registry 127.0.0.1:5000 hello.tar 127.0.0.1:5000/team/hello:1
  REGISTRY_AUTH_FILE=auth.json storepack push ./hello-oci registry.example/team/hello:2
`;

/** Runs `storepack push` with the arguments after the command name; returns the exit status. */
export async function runPush(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'insecure-registry': { type: 'string', multiple: true },
      'mount-from': { type: 'string', multiple: true },
      'chunk-size': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(pushHelp);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `push: expected IMAGE and REFERENCE, found ${positionals.length} arguments (see storepack push --help)`,
    );
  }
  const [image, reference] = positionals as [string, string];
  const chunkSize =
    values['chunk-size'] === undefined ? undefined : parseSize(values['chunk-size']);

  const result = await withInterruption((signal) =>
    pushImage(image, reference, {
      insecureRegistries: values['insecure-registry'] ?? [],
      mountFrom: values['mount-from'] ?? [],
      ...(chunkSize === undefined ? {} : { chunkSize }),
      logger: stderrLogger(Boolean(process.env.STOREPACK_DEBUG)),
      signal,
    }),
  );
  process.stdout.write(
    values.json ? `${JSON.stringify(result, null, 2)}\n` : formatPushResult(result),
  );
  return 0;
}

/** Parses `16M`, `512K` or `1048576` as bytes; raises a usage error for anything else. */
function parseSize(text: string): number {
  const match = /^(\d+)([KMG]?)$/i.exec(text.trim());
  const units: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
  const bytes =
    match === null ? 0 : Number(match[1]) * (units[(match[2] ?? '').toUpperCase()] ?? 0);
  if (!(bytes > 0)) {
    throw new UsageError(
      `push: invalid --chunk-size "${text}": expected a positive number of bytes, such as 16M`,
    );
  }
  return bytes;
}
