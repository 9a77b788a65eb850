import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomically } from './atomic-file.js';
import { planImage } from './image-plan.js';
import { writeOciArchive } from './oci-archive-writer.js';

const item = '/nix/store/1d6jyhsrn7xgk5l9d6zmqwm40g3x2ry8-data-1.0';

let work: string;
let root: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-oci-archive-writer-'));
  root = path.join(work, 'root');
  await mkdir(path.join(root, item), { recursive: true });
  await writeFile(path.join(root, item, 'random'), randomBytes(3 * 1024 * 1024));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('writeOciArchive', () => {
  it.each([
    ['shorter', (file: string) => truncate(file, 1000)],
    ['longer', (file: string) => appendFile(file, 'extra bytes')],
  ])('fails when a cached blob got %s', async (_case, change) => {
    const plan = await planImage({
      paths: [item],
      root,
      closureFrom: 'scan',
      tags: ['data:1'],
      compression: 'gzip',
      cache: path.join(work, 'cache'),
    });
    const blob = plan.layers.find((layer) => layer.path !== undefined)?.path as string;
    await change(blob);
    const output = path.join(work, 'out');
    await mkdir(output);

    const writing = writeFileAtomically(path.join(output, 'image.tar'), (stream) =>
      writeOciArchive(plan, stream, { outputReleasesChunks: true }),
    );

    await expect(writing).rejects.toThrow(/size mismatch/i);
    expect(await readdir(output)).toEqual([]);
  });
});
