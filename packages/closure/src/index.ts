export { ClosureError, type ClosureErrorCode } from './errors.js';
export type { Logger } from './logger.js';
export { ReferenceScanner } from './reference-scanner.js';
export { parseStorePath, type StorePath, storeDirOf } from './store-path.js';
