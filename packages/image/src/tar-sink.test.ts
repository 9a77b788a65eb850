import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TarSink } from './tar-sink.js';

let work: string;
let big: Buffer;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'storepack-tar-sink-'));
  // Many times the read buffers, so that every buffer is refilled several times.
  big = randomBytes(13 * 1024 * 1024 + 123);
  await writeFile(path.join(work, 'big'), big);
  await writeFile(path.join(work, 'small'), 'small file\n');
  await writeFile(path.join(work, 'empty'), '');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Adds the three source files to `archive` with `readFile`, and finishes it. */
async function copyFiles(archive: TarSink): Promise<void> {
  for (const name of ['big', 'small', 'empty']) {
    const file = path.join(work, name);
    const { size } = await stat(file);
    await archive.addStream(`files/${name}`, size, archive.readFile(file));
  }
  await archive.finish();
}

/** Extracts `tar` with GNU tar and checks that every file came through byte for byte. */
async function expectCopies(tar: string): Promise<void> {
  const out = path.join(work, 'out');
  await mkdir(out);
  execFileSync('tar', ['-xf', tar, '-C', out]);
  expect((await readFile(path.join(out, 'files/big'))).equals(big)).toBe(true);
  expect(await readFile(path.join(out, 'files/small'), 'utf8')).toBe('small file\n');
  expect((await readFile(path.join(out, 'files/empty'))).length).toBe(0);
}

/**
 * Starts a server on a Unix socket that reads slowly, pausing after each read, and saves what it
 * received to `file`. Its writer's chunks wait in memory meanwhile, so a read buffer refilled
 * before the socket has written it would show up as wrong bytes.
 */
async function slowReceiver(
  file: string,
): Promise<{ server: Server; address: string; done: Promise<void> }> {
  const address = path.join(work, 'socket');
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const server = createServer((connection) => {
    const chunks: Buffer[] = [];
    connection.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      connection.pause();
      setTimeout(() => connection.resume(), 1);
    });
    connection.on('end', () => {
      writeFile(file, Buffer.concat(chunks)).then(finish);
    });
  });
  await new Promise<void>((resolve) => server.listen(address, resolve));
  return { server, address, done };
}

describe('TarSink', () => {
  it('copies files through a slow socket', async () => {
    const tar = path.join(work, 'received.tar');
    const { server, address, done } = await slowReceiver(tar);
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(address, resolve));

    await copyFiles(new TarSink(socket, new Date(1000), undefined, { reuseReadBuffers: true }));
    await done;
    server.close();

    await expectCopies(tar);
  });

  it('copies files to a file stream', async () => {
    const tar = path.join(work, 'written.tar');
    await copyFiles(
      new TarSink(createWriteStream(tar), new Date(1000), undefined, { reuseReadBuffers: true }),
    );

    await expectCopies(tar);
    expect(execFileSync('tar', ['-tvf', tar], { encoding: 'utf8' })).toContain('files/big');
  });

  it('gives new chunks by default', async () => {
    const collected: Buffer[] = [];
    const collector = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        collected.push(chunk);
        callback();
      },
    });
    await copyFiles(new TarSink(collector, new Date(1000)));

    const tar = path.join(work, 'collected.tar');
    await writeFile(tar, Buffer.concat(collected));
    await expectCopies(tar);
  });

  it('fails when the socket closes', async () => {
    const address = path.join(work, 'socket');
    const server = createServer((connection) => {
      connection.once('data', () => connection.destroy());
    });
    await new Promise<void>((resolve) => server.listen(address, resolve));
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect(address, resolve));

    await expect(
      copyFiles(new TarSink(socket, new Date(1000), undefined, { reuseReadBuffers: true })),
    ).rejects.toThrow(/EPIPE|ECONNRESET|ended by the other party/);
    server.close();
  });

  it.each([
    ['shorter', 5],
    ['longer', 15],
  ])('names an entry whose source is %s than its size', async (_case, length) => {
    const archive = new TarSink(createWriteStream(path.join(work, 'x.tar')), new Date(1000));

    const adding = archive.addStream('layer.tar', 10, Readable.from([Buffer.alloc(length)]));

    await expect(adding).rejects.toMatchObject({
      code: 'LAYER_MISMATCH',
      message: 'writing layer.tar: Size mismatch',
    });
    await archive.destroy(new Error('stopped'));
  });

  it('names a file it cannot read', async () => {
    const archive = new TarSink(
      createWriteStream(path.join(work, 'x.tar')),
      new Date(1000),
      undefined,
      {
        reuseReadBuffers: true,
      },
    );
    const missing = path.join(work, 'missing');

    await expect(archive.addStream('missing', 10, archive.readFile(missing))).rejects.toThrow(
      missing,
    );
    await archive.destroy(new Error('stopped'));
  });
});
