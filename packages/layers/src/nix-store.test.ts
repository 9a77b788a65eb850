import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, readAll, removeTree, runTar, sha256Hex } from './layer-fixtures.js';
import { prepareLayer } from './prepare-layer.js';

const execFileAsync = promisify(execFile);

/** A derivation whose output has an executable, a symlink, an empty folder and non-ASCII names. */
const FIXTURE = `
derivation {
  name = "storepack-layers-fixture";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" ''
    set -e
    /bin/mkdir -p $out/bin $out/share/doc/empty
    /bin/echo '#!/bin/sh' > $out/bin/tool
    /bin/chmod 755 $out/bin/tool
    /bin/ln -s tool $out/bin/alias
    /bin/echo notes > "$out/share/doc/read me.txt"
    /bin/echo x > $out/share/über
  '' ];
}
`;

/** Serialises a path as a NAR, Nix's canonical form of a file tree, to compare two trees exactly. */
async function narOf(path: string): Promise<Buffer> {
  const { stdout } = await execFileAsync('nix-store', ['--dump', path], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

describe('a layer of a real Nix store item', () => {
  let work: string;
  let storePath: string;

  beforeAll(async () => {
    work = await makeTempDir();
    await writeFile(join(work, 'fixture.nix'), FIXTURE);
    const { stdout } = await execFileAsync('nix-build', [
      join(work, 'fixture.nix'),
      '--no-out-link',
      '--option',
      'sandbox',
      'false',
      '--option',
      'substituters',
      '',
    ]);
    storePath = stdout.trim();
  });

  afterAll(async () => {
    await removeTree(work);
  });

  it('extracts to the same NAR as the store', async () => {
    const layer = await prepareLayer({ storeDir: '/nix/store', storePaths: [storePath] });
    const archive = join(work, 'layer.tar');
    const out = join(work, 'out');
    const bytes = await readAll(layer.createStream());
    await writeFile(archive, bytes);
    await mkdir(out);

    await runTar(['-xf', archive, '-C', out]);

    expect(storePath).toMatch(/^\/nix\/store\/[0-9a-z]{32}-storepack-layers-fixture$/);
    expect(bytes.length).toBe(layer.size);
    expect(layer.diffId()).toBe(`sha256:${sha256Hex(bytes)}`);
    expect(sha256Hex(await narOf(join(out, storePath)))).toBe(sha256Hex(await narOf(storePath)));
  });
});
