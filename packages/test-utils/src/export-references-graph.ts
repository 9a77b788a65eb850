import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Builds a derivation with `exportReferencesGraph` on `storePath` and returns the graph file that
 * Nix wrote for it: per item its path, an empty deriver line, the number of references and the
 * references. `storeUri` selects a store other than the default one.
 */
export async function exportReferencesGraph(
  storePath: string,
  storeUri: string | undefined,
): Promise<string> {
  const expression = `
    derivation {
      name = "storepack-references-graph";
      system = "x86_64-linux";
      builder = "/bin/sh";
      args = [ "-e" "-c" "cp graph $out" ];
      PATH = "/usr/bin:/bin";
      exportReferencesGraph = [ "graph" (builtins.storePath ${JSON.stringify(storePath)}) ];
    }`;
  const link = path.join(
    os.tmpdir(),
    'storepack-test-nix-results',
    `graph-${path.basename(storePath)}`,
  );
  const args = [
    ...(storeUri === undefined ? [] : ['--store', storeUri]),
    '--option',
    'sandbox',
    'false',
    '--option',
    'substituters',
    '',
    '--out-link',
    link,
    '--expr',
    expression,
  ];

  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('nix-build', args));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `building the references graph of ${storePath} with nix-build failed: ${stderr.trim()}`,
      {
        cause: error,
      },
    );
  }
  return readFile(stdout.trim(), 'utf8');
}
