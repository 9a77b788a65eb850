import { UsageError } from './usage-error.js';

/** The last second of year 9999, the latest time an RFC 3339 timestamp can write. */
const LATEST_SECONDS = 253_402_300_799;

/** Reads `SOURCE_DATE_EPOCH` (whole seconds since the epoch); undefined when it is unset or empty. */
export function sourceDateEpoch(value: string | undefined): Date | undefined {
  if (value === undefined || value === '') {
    return undefined;
  }
  if (!/^\d+$/.test(value) || Number(value) > LATEST_SECONDS) {
    throw new UsageError(
      `invalid SOURCE_DATE_EPOCH "${value.slice(0, 40)}": expected whole seconds since 1970-01-01, at most ${LATEST_SECONDS}, such as 1700000000`,
    );
  }
  return new Date(Number(value) * 1000);
}
