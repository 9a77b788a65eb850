import type { Readable } from 'node:stream';

/** An event of a build's progress: the closure found, or bytes of a layer written. */
export type BuildProgress = ClosureProgress | WriteProgress;

/** The closure of an image, once it is found. */
export interface ClosureProgress {
  kind: 'closure';
  /** Store items in the closure. */
  items: number;
  /** Source of the closure: `db`, `command`, `scan` or `file`. */
  source: string;
}

/** How far the writing of an image's layers has come. */
export interface WriteProgress {
  kind: 'layer';
  /** The layer being written, from 1. */
  layer: number;
  /** Layers in the image. */
  layers: number;
  /** Bytes of this layer written so far. */
  bytes: number;
  /** Byte length of this layer. */
  size: number;
}

/** Minimum time between two progress reports of one layer, so that reporting stays cheap. */
const REPORT_INTERVAL_MS = 200;

/**
 * Reports the bytes of a layer stream to `report` as they pass: when it starts, at most every
 * 200 ms, and when it ends. The stream is returned as it is; without `report` nothing is added.
 */
export function reportProgress(
  stream: Readable,
  position: { layer: number; layers: number; size: number },
  report: ((progress: WriteProgress) => void) | undefined,
): Readable {
  if (report === undefined) {
    return stream;
  }

  let bytes = 0;
  let last = 0;
  report({ kind: 'layer', ...position, bytes });
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.byteLength;
    const now = Date.now();
    if (now - last >= REPORT_INTERVAL_MS) {
      last = now;
      report({ kind: 'layer', ...position, bytes });
    }
  });
  stream.on('end', () => report({ kind: 'layer', ...position, bytes }));
  return stream;
}
