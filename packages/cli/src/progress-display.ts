import type { BuildProgress } from '@storepack/image';

/** Draws build progress on one line of a terminal; `finish` ends that line. */
export interface ProgressDisplay {
  report(progress: BuildProgress): void;
  finish(): void;
}

/**
 * Returns a display that rewrites one line of standard error with the closure's size and the
 * layer being written, its bytes and rate. Returns undefined when standard error is no terminal
 * or `quiet` is set, so that logs and pipes get no progress lines. It writes no colours.
 */
export function progressDisplay(quiet: boolean): ProgressDisplay | undefined {
  if (quiet || !process.stderr.isTTY) {
    return undefined;
  }

  let closure = '';
  let shown = false;
  const started = Date.now();
  // Bytes of the layers already finished, and of the one being written.
  let finished = 0;
  let current = { layer: 0, layers: 0, bytes: 0 };
  const draw = (text: string) => {
    const width = process.stderr.columns ?? 80;
    process.stderr.write(`\r${text.slice(0, width - 1).padEnd(width - 1)}`);
    shown = true;
  };
  const written = () => finished + current.bytes;
  const seconds = () => Math.max((Date.now() - started) / 1000, 0.001);

  return {
    report(progress) {
      if (progress.kind === 'closure') {
        closure = `${progress.items} items (${progress.source})`;
        draw(`storepack: closure of ${closure}`);
        return;
      }
      if (progress.layer !== current.layer) {
        finished += current.bytes;
      }
      current = { layer: progress.layer, layers: progress.layers, bytes: progress.bytes };
      draw(
        `storepack: ${closure}, layer ${progress.layer}/${progress.layers}, ${mebibytes(written())} MiB written, ${mebibytes(written() / seconds())} MiB/s`,
      );
    },
    finish() {
      if (!shown) {
        return;
      }
      if (current.layers > 0) {
        draw(
          `storepack: ${closure}, ${current.layers} layers, ${mebibytes(written())} MiB written in ${seconds().toFixed(1)} s`,
        );
      }
      process.stderr.write('\n');
    },
  };
}

function mebibytes(bytes: number): string {
  return (bytes / 1024 ** 2).toFixed(1);
}
