/**
 * Returns the cause of a Node.js system error without its code and call, so that
 * `ENOENT: no such file or directory, open '/tmp/x'` becomes `no such file or directory`.
 */
export function systemErrorCause(error: Error): string {
  return error.message.replace(/^E[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');
}
