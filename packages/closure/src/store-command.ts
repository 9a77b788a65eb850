import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { ClosureError, describeCause } from './errors.js';

/** Output of a finished store command. */
export interface CommandResult {
  /** Standard output, decoded as UTF-8. */
  stdout: string;
}

/**
 * Runs `program` with `args` and returns its output. A program that is missing or exits with a
 * non-zero status throws `COMMAND` with the command line and the last line of its error output.
 */
export function runStoreCommand(program: string, args: string[]): Promise<CommandResult> {
  const commandLine = [program, ...args.slice(0, 4), ...(args.length > 4 ? ['…'] : [])].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    child.on('error', (error) => {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      const cause = missing
        ? `${program} not found on PATH: install it or choose another closure source (db, scan or a file)`
        : describeCause(error);
      reject(new ClosureError('COMMAND', `running ${commandLine}: ${cause}`, { cause: error }));
    });
    child.on('close', (status, signal) => {
      if (status === 0) {
        resolve({ stdout: Buffer.concat(stdout).toString('utf8') });
        return;
      }
      const lines = Buffer.concat(stderr).toString('utf8').trim().split('\n');
      const last = (lines.at(-1) ?? '').replace(/^error: /, '').trim();
      const how = signal === null ? `exit status ${status}` : `signal ${signal}`;
      reject(
        new ClosureError(
          'COMMAND',
          `${commandLine} failed with ${how}${last === '' ? '' : `: ${last}`}`,
        ),
      );
    });
  });
}

/** Tells whether an executable file named `program` is in one of the folders of `PATH`. */
export function isOnPath(program: string): boolean {
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    if (folder === '') {
      continue;
    }
    try {
      accessSync(path.join(folder, program), constants.X_OK);
      return true;
    } catch {
      // Not in this folder.
    }
  }
  return false;
}

/** Splits command output into its non-empty lines. */
export function outputLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '');
}
