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
 * Runs `work` with an AbortSignal that SIGINT and SIGTERM abort with an `Interrupted` reason, so
 * that the work can remove what it started writing before the process exits.
 */
export async function withInterruption<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const handlers = Object.keys(signalStatus).map((name) => {
    const signal = name as keyof typeof signalStatus;
    const handler = () => controller.abort(new Interrupted(signal));
    process.once(signal, handler);
    return () => process.off(signal, handler);
  });

  try {
    return await work(controller.signal);
  } finally {
    for (const remove of handlers) {
      remove();
    }
  }
}
