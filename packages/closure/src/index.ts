export { type Closure, type ClosureItem, referrerCounts } from './closure.js';
export { ClosureError, type ClosureErrorCode } from './errors.js';
export type { Logger } from './logger.js';
export { ReferenceScanner } from './reference-scanner.js';
export { type ResolveClosureOptions, resolveClosure } from './resolve-closure.js';
export { defaultDatabasePath } from './store-database.js';
export { parseStorePath, type StorePath, storeDirOf } from './store-path.js';
