import { spawn } from 'node:child_process';

/** Output of a finished command. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to completion and returns what it printed. When it fails, the error carries the
 * command line, the exit status and the end of standard error, so a failing test shows why.
 */
export function runCommand(
  program: string,
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    input?: string | Buffer;
    timeoutMs?: number;
  } = {},
): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 300_000,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);

    child.on('error', (error) =>
      reject(new Error(`running ${program}: ${error.message}`, { cause: error })),
    );
    child.on('close', (status, signal) => {
      const output = {
        stdout: Buffer.concat(stdout).toString(),
        stderr: Buffer.concat(stderr).toString(),
      };
      if (status === 0) {
        resolve(output);
        return;
      }
      const ending = output.stderr.trim().split('\n').slice(-15).join('\n');
      reject(
        new Error(
          `${program} ${args.join(' ')} failed (${signal ?? `status ${status}`}):\n${ending}`,
        ),
      );
    });
  });
}
