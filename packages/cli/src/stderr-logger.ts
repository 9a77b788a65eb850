import type { Logger } from '@storepack/image';

/**
 * Returns a logger that writes warnings to standard error as `storepack: warning: message
 * key=value…`, and debug events too when `debug` is set.
 */
export function stderrLogger(debug: boolean): Logger {
  const write = (level: string, message: string, fields?: Record<string, unknown>) => {
    const context = Object.entries(fields ?? {})
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    process.stderr.write(`storepack: ${level}: ${message}${context === '' ? '' : ` ${context}`}\n`);
  };

  return {
    debug: (message, fields) => {
      if (debug) {
        write('debug', message, fields);
      }
    },
    warn: (message, fields) => write('warning', message, fields),
  };
}
