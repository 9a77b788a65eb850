/** The signals that stop a build, with the exit status a shell reports for each: 128 + number. */
const signalStatus = { SIGINT: 130, SIGTERM: 143 } as const;

/** The reason a run was stopped by a signal. */
export class Interrupted extends Error {
  /** Exit status for the signal, as a shell would report a process killed by it. */
  readonly status: number;

  constructor(signal: keyof typeof signalStatus) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
    this.status = signalStatus[signal];
  }
}

/**
 * Time the work has after a signal to stop and clean up before the process ends anyway. Removing
 * the partial output of a 1 GiB build takes well under a second.
 */
const EXIT_DELAY_MS = 5000;

/**
 * Runs `work` with an AbortSignal that SIGINT and SIGTERM abort with an `Interrupted` reason, so
 * that the work can remove what it started writing before the process exits. Some waits end only
 * when another process acts, such as opening a FIFO that no one reads or writing to a pipe that
 * no one reads any more. A process still running `EXIT_DELAY_MS` after the signal reports the
 * interruption (unless the work has already failed with it) and ends by the signal.
 */
export async function withInterruption<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let settled = false;
  const handlers = Object.keys(signalStatus).map((name) => {
    const signal = name as keyof typeof signalStatus;
    const handler = () => {
      const reason = new Interrupted(signal);
      controller.abort(reason);
      const exit = () => {
        if (!settled) {
          // Starts on a new line, because the progress line may still be on the terminal.
          const start = process.stderr.isTTY ? '\n' : '';
          process.stderr.write(`${start}storepack: ${reason.message}\n`);
        }
        // The process ends by the signal itself, which shells report as the same status. Exiting
        // normally would wait for the thread pool, where a FIFO's open(2) may still be blocked.
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
      };
      // Unreferenced, so that a process with nothing left to wait for exits at once.
      setTimeout(exit, EXIT_DELAY_MS).unref();
    };
    process.once(signal, handler);
    return () => process.off(signal, handler);
  });

  try {
    return await work(controller.signal);
  } finally {
    settled = true;
    for (const remove of handlers) {
      remove();
    }
  }
}
