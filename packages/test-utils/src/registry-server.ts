import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from './run-command.js';

/** One request as the registry's access log records it. */
export interface LoggedRequest {
  method: string;
  /** Path and query, such as `/v2/team/hello/blobs/uploads/?mount=…&from=…`. */
  path: string;
  status: number;
}

/** A CNCF distribution registry started for a test, serving plain HTTP on 127.0.0.1. */
export interface RegistryServer {
  /** `127.0.0.1:PORT`, the registry part of a reference. */
  host: string;
  port: number;
  /** Every request the registry has responded to so far, in order, read from its access log. */
  requests(): Promise<LoggedRequest[]>;
  /** Stops the registry and removes its storage, logs and password file. */
  stop(): Promise<void>;
}

/** Returns a TCP port that is free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Starts Debian's `docker-registry` (CNCF distribution 2.8) on a free port of 127.0.0.1 with
 * filesystem storage in a temp folder. With `htpasswd`, the registry demands Basic credentials,
 * and the bcrypt password file is made with `htpasswd -Bbn` (Debian: apache2-utils).
 */
export async function startRegistry(
  options: { htpasswd?: { username: string; password: string } } = {},
): Promise<RegistryServer> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'storepack-registry-'));
  const port = await freePort();
  const accessLog = path.join(work, 'access.log');
  const configLines = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(work, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: storepack-test-secret',
  ];
  if (options.htpasswd !== undefined) {
    const { username, password } = options.htpasswd;
    const { stdout } = await runCommand('htpasswd', ['-Bbn', username, password]);
    await writeFile(path.join(work, 'htpasswd'), stdout.trim());
    configLines.push(
      'auth:',
      '  htpasswd:',
      '    realm: storepack-test',
      `    path: ${path.join(work, 'htpasswd')}`,
    );
  }
  const config = path.join(work, 'config.yml');
  await writeFile(config, `${configLines.join('\n')}\n`);

  // The access log, one line per request in the combined log format, goes to standard output.
  const stdout = openSync(accessLog, 'a');
  const stderr = openSync(path.join(work, 'registry.log'), 'a');
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', stdout, stderr] });
  closeSync(stdout);
  closeSync(stderr);
  const exited = once(child, 'exit');

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(work, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(port, child, work);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    host: `127.0.0.1:${port}`,
    port,
    requests: async () => parseAccessLog(await readFile(accessLog, 'utf8')),
    stop,
  };
}

/** Parses access log lines such as `127.0.0.1 - - [date] "PUT /v2/x/manifests/1 HTTP/1.1" 201 0 "" "ua"`. */
export function parseAccessLog(text: string): LoggedRequest[] {
  const requests: LoggedRequest[] = [];
  for (const line of text.split('\n')) {
    const match = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /.exec(line);
    if (match !== null) {
      requests.push({
        method: match[1] as string,
        path: match[2] as string,
        status: Number(match[3]),
      });
    }
  }
  return requests;
}

async function waitUntilServing(port: number, child: ChildProcess, work: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const log = await readFile(path.join(work, 'registry.log'), 'utf8').catch(() => '');
      throw new Error(`docker-registry exited with status ${child.exitCode}:\n${log.slice(-2000)}`);
    }
    const status = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (response) => response.status,
      () => undefined,
    );
    if (status === 200 || status === 401) {
      return;
    }
    await sleep(100);
  }
  throw new Error(`docker-registry did not respond on 127.0.0.1:${port} within 20 s`);
}
