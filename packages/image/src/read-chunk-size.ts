/**
 * Bytes per read when a blob file is streamed. Far above Node's 64 KiB default, because every read
 * is a thread pool round trip, and a layer of hundreds of MiB would otherwise take thousands.
 */
export const READ_CHUNK_SIZE = 1024 * 1024;
