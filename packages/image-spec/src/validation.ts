/** One problem found in a document, at a JSON path such as `rootfs.diff_ids[1]`. */
export interface ValidationIssue {
  /** JSON path of the offending value, empty for the document itself. */
  path: string;
  /** Description of the expected value and of the value found. */
  message: string;
}

/** Formats an issue as `path: message`, naming the document itself `(document)`. */
export function formatIssue(issue: ValidationIssue): string {
  return `${issue.path === '' ? '(document)' : issue.path}: ${issue.message}`;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends a member name to a JSON path, quoting names that are not plain identifiers. */
export function memberPath(parent: string, key: string): string {
  if (!IDENTIFIER.test(key)) {
    return `${parent}[${JSON.stringify(key)}]`;
  }
  return parent === '' ? key : `${parent}.${key}`;
}

/** Joins a prefix and a JSON path that may be empty or start with an index or quoted member. */
export function joinPath(prefix: string, path: string): string {
  if (path === '') {
    return prefix;
  }
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

/** Appends an array index to a JSON path. */
export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** Checks whether `value` is a plain JSON object, not an array or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names the JSON type of a value for messages, such as `array`, `null` or `string "x"`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') {
    const truncated = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `string ${JSON.stringify(truncated)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Checks whether `text` is an RFC 3339 date-time with valid field ranges, such as `1970-01-01T00:00:01Z`. */
export function isRfc3339(text: string): boolean {
  const match = RFC3339.exec(text);
  if (match === null) {
    return false;
  }

  const field = (index: number) => Number(match[index] ?? '0');
  const year = field(1);
  const month = field(2);
  return (
    month >= 1 &&
    month <= 12 &&
    field(3) >= 1 &&
    field(3) <= daysInMonth(year, month) &&
    field(4) <= 23 &&
    field(5) <= 59 &&
    // RFC 3339 allows a 60th second for leap seconds.
    field(6) <= 60 &&
    field(7) <= 23 &&
    field(8) <= 59
  );
}

/** Number of days in `month` (1–12) of `year` in the proleptic Gregorian calendar. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Collects issues while a validator walks a document. */
export class IssueCollector {
  /** Issues found so far, in document order. */
  readonly issues: ValidationIssue[] = [];

  /** Records one issue. */
  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  /** Records the issues of a nested document, with `prefix` before each path. */
  nest(prefix: string, found: readonly ValidationIssue[]): void {
    for (const issue of found) {
      this.add(joinPath(prefix, issue.path), issue.message);
    }
  }

  /** Records an issue unless `value` is an object, and returns whether it is one. */
  object(value: unknown, path: string): value is Record<string, unknown> {
    if (isRecord(value)) {
      return true;
    }
    this.add(path, `expected an object, found ${describeValue(value)}`);
    return false;
  }

  /** Records an issue unless `value` is a string, non-empty when `nonEmpty` is set. */
  string(value: unknown, path: string, nonEmpty = false): value is string {
    if (typeof value !== 'string') {
      this.add(path, `expected a string, found ${describeValue(value)}`);
      return false;
    }
    if (nonEmpty && value === '') {
      this.add(path, 'expected a non-empty string, found ""');
      return false;
    }
    return true;
  }

  /** Checks a member that must be present and a non-empty string. */
  requiredString(record: Record<string, unknown>, key: string, parent: string): void {
    const path = memberPath(parent, key);
    if (!(key in record)) {
      this.add(path, 'missing required string');
      return;
    }
    this.string(record[key], path, true);
  }

  /** Checks a member that may be absent but otherwise must be a string. */
  optionalString(record: Record<string, unknown>, key: string, parent: string): void {
    if (record[key] !== undefined) {
      this.string(record[key], memberPath(parent, key));
    }
  }

  /** Checks that `value` is an array of strings, passing each item to `check` when given. */
  stringArray(
    value: unknown,
    path: string,
    check?: (item: string, itemPath: string) => void,
  ): value is string[] {
    if (!Array.isArray(value)) {
      this.add(path, `expected an array of strings, found ${describeValue(value)}`);
      return false;
    }

    let valid = true;
    value.forEach((item, index) => {
      const itemPath = indexPath(path, index);
      if (this.string(item, itemPath)) {
        check?.(item, itemPath);
      } else {
        valid = false;
      }
    });
    return valid;
  }

  /** Checks an integer member that may be absent but otherwise must be at least `minimum`. */
  optionalInteger(record: Record<string, unknown>, key: string, parent: string, minimum = 0): void {
    const value = record[key];
    if (value === undefined) {
      return;
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
      this.add(
        memberPath(parent, key),
        `expected an integer of at least ${minimum}, found ${describeValue(value)}`,
      );
    }
  }

  /** Checks an optional RFC 3339 date-time member. */
  optionalDate(record: Record<string, unknown>, key: string, parent: string): void {
    const value = record[key];
    const path = memberPath(parent, key);
    if (value !== undefined && this.string(value, path) && !isRfc3339(value)) {
      this.add(
        path,
        `expected an RFC 3339 date-time such as "1970-01-01T00:00:01Z", found ${describeValue(value)}`,
      );
    }
  }
}
