import { Interrupted } from './interruption.js';
import { UsageError } from './usage-error.js';

/** Codes of library errors that mean the command line asked for something invalid. */
const usageErrorCodes = new Set([
  'INVALID_REFERENCE',
  'UNKNOWN_SYSTEM',
  'INVALID_OPTION',
  // A layer source the flags described badly, such as two paths that clash.
  'INVALID_SOURCE',
]);

/**
 * Writes an error to standard error as one line and returns the exit status: 2 for a usage error,
 * 128 + the signal's number for an interruption, 1 for any other failure. A closed pipe on
 * standard output, as in `storepack build -o - | head -c 1000`, ends the run without a message.
 */
export function reportError(error: unknown): number {
  // Node's stream pipeline wraps an abort's reason in an AbortError, as its cause.
  const interruption =
    error instanceof Error && error.cause instanceof Interrupted ? error.cause : error;
  if (interruption instanceof Interrupted) {
    process.stderr.write(`storepack: ${interruption.message}\n`);
    return interruption.status;
  }
  if (hasCode(error, new Set(['EPIPE'])) || hasCause(error, 'EPIPE')) {
    return 1;
  }
  if (error instanceof UsageError || hasCode(error, usageErrorCodes)) {
    process.stderr.write(`storepack: ${(error as Error).message}\n`);
    return 2;
  }
  if (isParseArgsError(error)) {
    // parseArgs appends advice over several sentences; its first sentence names the problem.
    const [problem] = error.message.split(/(?<=\.)\s/);
    process.stderr.write(`storepack: ${problem?.replace(/\.$/, '')}\n`);
    return 2;
  }
  if (error instanceof Error) {
    process.stderr.write(`storepack: ${error.message}\n`);
    if (process.env.STOREPACK_DEBUG) {
      process.stderr.write(`${error.stack ?? ''}\n`);
    }
    return 1;
  }
  process.stderr.write(`storepack: ${String(error)}\n`);
  return 1;
}

function hasCode(error: unknown, codes: Set<string>): boolean {
  return error instanceof Error && 'code' in error && codes.has(String(error.code));
}

function hasCause(error: unknown, code: string): boolean {
  return error instanceof Error && hasCode(error.cause, new Set([code]));
}

/** Errors that node:util's parseArgs throws for unknown options and missing values. */
function isParseArgsError(error: unknown): error is TypeError {
  return (
    error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')
  );
}
