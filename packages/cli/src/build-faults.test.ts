import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildNixClosure,
  type NixClosureFixture,
  podmanLoad,
  queryRequisites,
  runCommand,
} from '@storepack/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStorepack } from '../test/run-storepack.js';

const bin = fileURLToPath(new URL('../bin/storepack.js', import.meta.url));
const bigItem = '/nix/store/0c5hkdsrm6wdxj4k8c5ylqzlv2f1dn7s-big-1.0';

let work: string;
let fixture: NixClosureFixture;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-faults-'));
  // Every user may enter it: one test runs storepack as user nobody.
  await chmod(work, 0o755);
  fixture = await buildNixClosure({ layout: 'nix' });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * Runs `storepack build` with `args` as the unprivileged user 65534 (`nobody`), so that file
 * permissions apply. Returns what it printed on both outputs, then `status=` and its exit status.
 */
async function buildAsNobody(args: string[]): Promise<string> {
  const { stdout } = await runCommand('bash', [
    '-c',
    'setpriv --reuid=65534 --regid=65534 --clear-groups node "$@" 2>&1; echo "status=$?"',
    'bash',
    bin,
    'build',
    ...args,
  ]);
  return stdout;
}

async function manifestOf(archive: string): Promise<{ RepoTags: string[] }[]> {
  const { stdout } = await runCommand('tar', ['-xOf', archive, 'manifest.json']);
  return JSON.parse(stdout);
}

describe('storepack build output targets', () => {
  it.each([
    ['streamed layers', []],
    ['layers copied from the cache', ['--format', 'oci-archive', '--compress', 'zstd', '--cache']],
  ])('ends quietly on a closed pipe, with %s', async (_case, flags) => {
    const cacheFlags = flags.length > 0 ? [...flags, path.join(work, 'cache')] : [];
    const { stdout } = await runCommand('bash', [
      '-c',
      `node "$1" build "$2" -o - "\${@:4}" 2>"$3" | head -c 100 | wc -c; echo "\${PIPESTATUS[0]}"`,
      'bash',
      bin,
      fixture.root,
      path.join(work, 'pipe-stderr'),
      ...cacheFlags,
    ]);
    const [bytes, status] = stdout.trim().split('\n');

    expect(bytes?.trim()).toBe('100');
    expect(status).toBe('1');
    const { stdout: stderr } = await runCommand('cat', [path.join(work, 'pipe-stderr')]);
    expect(stderr).toBe('');
  });

  it('names standard output when it is full', async () => {
    const { stdout } = await runCommand('bash', [
      '-c',
      `node "$1" build "$2" -o - 2>&1 >/dev/full; echo "status \${PIPESTATUS[0]}"`,
      'bash',
      bin,
      fixture.root,
    ]);

    expect(stdout).toBe('storepack: writing standard output: no space left on device\nstatus 1\n');
  });

  it.each([
    ['-', 'a new file', '>', ''],
    ['-', 'a file opened to append', '>>', 'earlier lines\n'],
    ['/dev/stdout', 'a file opened to append', '>>', 'earlier lines\n'],
  ])('writes -o %s to %s', async (output, _case, redirect, before) => {
    const name = `to-stdout-${output.length}-${redirect.length}`;
    const file = path.join(work, `${name}.tar`);
    const reference = path.join(work, `${name}-reference.tar`);
    await writeFile(file, before);
    await runCommand('bash', [
      '-c',
      `node "$1" build "$2" -o "$3" ${redirect} "$4"`,
      'bash',
      bin,
      fixture.root,
      output,
      file,
    ]);
    expect((await runStorepack(['build', fixture.root, '-o', reference])).status).toBe(0);

    const written = await readFile(file);
    expect(written.subarray(0, before.length).toString()).toBe(before);
    expect(written.subarray(before.length).equals(await readFile(reference))).toBe(true);
  });

  it('rejects a folder as standard output', async () => {
    const { stdout } = await runCommand('bash', [
      '-c',
      `node "$1" build "$2" -o - 2>&1 1<"$3"; echo "status $?"`,
      'bash',
      bin,
      fixture.root,
      work,
    ]);

    expect(stdout).toBe(
      'storepack: build: cannot write an image to standard output, which is a folder: redirect it to a file or pipe, or use -o FILE\nstatus 2\n',
    );
  });

  it.each([
    ['a FIFO that no one opens', 'fifo'],
    ['a pipe that no one reads', 'pipe'],
  ] as const)('exits on SIGINT while writing to %s', async (_case, kind) => {
    const fifo = path.join(work, `unread-${kind}`);
    await runCommand('mkfifo', [fifo]);
    const outputArgs = kind === 'fifo' ? ['-o', fifo] : ['-o', '-'];
    const child = spawn(process.execPath, [bin, 'build', fixture.root, ...outputArgs], {
      stdio: ['ignore', kind === 'fifo' ? 'ignore' : 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );

    // Signal once the build is stuck: a thread waits in open(2) for the FIFO's reader, or the
    // pipe, read no more after the first bytes, has had time to fill.
    if (kind === 'fifo') {
      while (!(await threadStates(child.pid as number)).includes('wait_for_partner')) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } else {
      await new Promise((resolve) => child.stdout?.once('data', resolve));
      child.stdout?.pause();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const signalled = performance.now();
    child.kill('SIGINT');

    // A stuck build ends by the signal, which a shell reports as status 130. On a loaded machine
    // the pipe may not be full yet, and the build then exits 130 itself.
    const ended = await exited;
    if (kind === 'fifo') {
      expect(ended).toEqual({ code: null, signal: 'SIGINT' });
    } else {
      expect([
        { code: null, signal: 'SIGINT' },
        { code: 130, signal: null },
      ]).toContainEqual(ended);
    }
    expect(performance.now() - signalled).toBeLessThan(10_000);
    expect(stderr).toBe('storepack: interrupted by SIGINT\n');
  });

  it('writes to /dev/null in place', async () => {
    const run = await runStorepack(['build', fixture.root, '-o', '/dev/null']);
    expect(run.status).toBe(0);
    const { stdout } = await runCommand('stat', ['-c', '%F', '/dev/null']);
    expect(stdout.trim()).toBe('character special file');
  });

  it('rejects a folder as output', async () => {
    const folder = await mkdtemp(path.join(work, 'folder-'));
    const run = await runStorepack(['build', fixture.root, '-o', folder]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`storepack: writing ${folder}: is a directory: give a file name\n`);
    expect(await readdir(folder)).toEqual([]);
  });

  it('rejects an empty output name', async () => {
    const run = await runStorepack(['build', fixture.root, '-o', '']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('storepack: build: --output is empty: give a value\n');
  });
});

describe('storepack build tags and paths', () => {
  it('completes a tag without one', async () => {
    const archive = path.join(work, 'tagged.tar');
    const run = await runStorepack([
      'build',
      fixture.root,
      '-t',
      'hello',
      '-t',
      'hello:latest',
      '-o',
      archive,
    ]);
    expect(run.status).toBe(0);

    expect((await manifestOf(archive))[0]?.RepoTags).toEqual(['hello:latest']);
    const { output } = await podmanLoad({ archive });
    expect(output).toContain('hello:latest');
  });

  it('takes the first path as the main item', async () => {
    const folder = await mkdtemp(path.join(work, 'two-paths-'));
    const { busybox, app } = fixture.items;
    const run = await runStorepack(['build', busybox, app], { cwd: folder });
    expect(run.status).toBe(0);

    const archiveName = `docker-image-${path.basename(busybox)}.tar`;
    expect(await readdir(folder)).toEqual([archiveName]);
    const archive = path.join(folder, archiveName);
    expect((await manifestOf(archive))[0]?.RepoTags).toEqual([
      `busybox:${path.basename(busybox).slice(0, 32)}`,
    ]);
    const { stdout } = await runCommand('sh', [
      '-c',
      `tar -xOf "$1" --wildcards '*/layer.tar' | tar -itvf - bin`,
      'sh',
      archive,
    ]);
    expect(stdout).toContain(`bin -> ${busybox}/bin`);
  });
});

describe('storepack build faults', () => {
  it('names an unreadable file and leaves nothing', async () => {
    // A copy of the closure whose jq library only root may read; nobody runs the build.
    const root = path.join(work, 'unreadable-root');
    for (const item of await queryRequisites(fixture, fixture.root)) {
      await cp(item, path.join(root, item), { recursive: true, verbatimSymlinks: true });
    }
    await runCommand('chmod', ['-R', 'u+w,a+rX', root]);
    const library = path.join(root, fixture.items.jq, 'lib', 'libjq.so.1');
    await chmod(library, 0o000);
    const output = path.join(work, 'unreadable-out');
    await mkdir(output, { mode: 0o777 });
    await chmod(output, 0o777);

    const stdout = await buildAsNobody([
      '--root',
      root,
      '--db',
      fixture.dbPath,
      fixture.root,
      '-o',
      path.join(output, 'image.tar'),
    ]);

    expect(stdout).toBe(`storepack: reading ${library}: permission denied\nstatus=1\n`);
    expect(await readdir(output)).toEqual([]);
  });

  it('names a folder that takes no new file', async () => {
    // A file that anyone may write, in a folder where only root may create files.
    const folder = path.join(work, 'read-only-folder');
    const target = path.join(folder, 'image.tar');
    await mkdir(folder);
    await writeFile(target, 'previous image');
    await chmod(target, 0o666);
    await chmod(folder, 0o555);

    const stdout = await buildAsNobody(['--db', fixture.dbPath, fixture.root, '-o', target]);

    expect(stdout).toBe(
      `storepack: writing ${target}: permission denied in the folder ${folder}: the image is written there under a temporary name and then renamed, so the folder must be writable\nstatus=1\n`,
    );
    expect(await readdir(folder)).toEqual(['image.tar']);
    expect(await readFile(target, 'utf8')).toBe('previous image');
  });

  it.each([
    ['SIGINT', 130, 'docker-archive'],
    ['SIGTERM', 143, 'docker-archive'],
    ['SIGINT', 130, 'oci'],
    ['SIGTERM', 143, 'oci-archive'],
  ] as const)('%s exits %s and removes a partial %s', async (signal, status, format) => {
    const root = path.join(work, 'big-root');
    await mkdir(path.join(root, bigItem), { recursive: true });
    const blob = path.join(root, bigItem, 'blob');
    if (!(await readdir(path.dirname(blob))).includes('blob')) {
      await writeFile(blob, Buffer.alloc(512 * 1024 * 1024, 1));
    }
    const output = await mkdtemp(path.join(work, `${signal}-`));

    const child = spawn(
      process.execPath,
      [bin, 'build', '--root', root, bigItem, '--format', format, '-o', path.join(output, 'big')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

    // Signal once the temporary file exists, that is while the layer streams.
    while ((await readdir(output)).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill(signal);

    expect(await exited).toBe(status);
    expect(stderr).toBe(`storepack: interrupted by ${signal}\n`);
    expect(await readdir(output)).toEqual([]);
  });

  it('SIGINT stops a zstd layer being cached and keeps no part of it', async () => {
    const root = path.join(work, 'big-root');
    await mkdir(path.join(root, bigItem), { recursive: true });
    const blob = path.join(root, bigItem, 'blob');
    if (!(await readdir(path.dirname(blob))).includes('blob')) {
      await writeFile(blob, Buffer.alloc(512 * 1024 * 1024, 1));
    }
    const output = await mkdtemp(path.join(work, 'zstd-SIGINT-'));
    const cache = path.join(output, 'cache');
    const args = ['build', '--root', root, bigItem, '--format', 'oci-archive', '--compress'];
    const child = spawn(
      process.execPath,
      [bin, ...args, 'zstd', '--cache', cache, '-o', path.join(output, 'image.tar')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

    // Signal once the blob's temporary file exists in the cache, that is while the layer is built.
    const temporaryBlobs = async () =>
      (await readdir(cache).catch(() => [])).filter((name) => name.startsWith('.tmp-'));
    while ((await temporaryBlobs()).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGINT');

    expect(await exited).toBe(130);
    expect(stderr).toBe('storepack: interrupted by SIGINT\n');
    expect(await temporaryBlobs()).toEqual([]);
    expect(await readdir(path.join(cache, 'entries'))).toEqual([]);
    expect(await readdir(output)).toEqual(['cache']);
  });

  it.each([
    ['shrinks', 'truncate', ['-s', '1M']],
    ['grows', 'sh', ['-c', 'head -c 1048576 /dev/zero >> "$0"']],
  ] as const)('names a file that %s while it is read', async (_case, program, args) => {
    const root = path.join(work, `changing-${_case}`);
    const file = path.join(root, bigItem, 'blob');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, Buffer.alloc(512 * 1024 * 1024, 2));
    const output = await mkdtemp(path.join(work, `changing-${_case}-out-`));

    const child = spawn(
      process.execPath,
      [bin, 'build', '--root', root, bigItem, '-o', path.join(output, 'image.tar')],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

    // Change the file once the temporary output exists, that is while the layer streams.
    while ((await readdir(output)).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await runCommand(program, [...args, file]);

    expect(await exited).toBe(1);
    expect(stderr).toMatch(
      `storepack: reading ${file}: file changed after the layer was prepared: `,
    );
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(await readdir(output)).toEqual([]);
    await rm(root, { recursive: true, force: true });
  });
});

/** Returns the kernel function that each thread of process `pid` waits in. */
async function threadStates(pid: number): Promise<string[]> {
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
  const states = await Promise.all(
    tasks.map((task) => readFile(`/proc/${pid}/task/${task}/wchan`, 'utf8').catch(() => '')),
  );
  return states;
}
