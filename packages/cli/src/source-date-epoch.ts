import { UsageError } from './usage-error.js';

/** Reads `SOURCE_DATE_EPOCH` (whole seconds since the epoch); undefined when it is unset or empty. */
export function sourceDateEpoch(value: string | undefined): Date | undefined {
  if (value === undefined || value === '') {
    return undefined;
  }
  if (!/^\d+$/.test(value)) {
    throw new UsageError(
      `invalid SOURCE_DATE_EPOCH "${value.slice(0, 40)}": expected whole seconds since 1970-01-01, such as 1700000000`,
    );
  }
  return new Date(Number(value) * 1000);
}
