export {
  type Closure,
  type ClosureItem,
  type ClosureSourceName,
  closureSizes,
  referrerCounts,
  reverseReferences,
} from './closure.js';
export { readClosureFile } from './closure-file.js';
export { ClosureError, type ClosureErrorCode } from './errors.js';
export type { Logger } from './logger.js';
export type { GraphEntry, ReferenceGraph } from './reference-graph.js';
export { ReferenceScanner } from './reference-scanner.js';
export { type ResolveClosureOptions, resolveClosure } from './resolve-closure.js';
export { defaultDatabasePath } from './store-database.js';
export { parseStorePath, type StorePath, storeDirOf } from './store-path.js';
