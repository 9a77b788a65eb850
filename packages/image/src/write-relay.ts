import { finished, Writable } from 'node:stream';
import { finished as untilFinished } from 'node:stream/promises';

/** Bytes a relay buffers before `write` returns false. */
const RELAY_BUFFER_SIZE = 2 * 1024 * 1024;

/**
 * Returns a writable that passes its chunks on to `output` and calls `onWritten` with each chunk
 * once `output` has written it. Ending the relay ends `output`, and the relay finishes when
 * `output` has. An error or early close of `output` destroys the relay with that error. Destroying
 * the relay with an error destroys `output` with it, as `pipeline` would.
 */
export function relayWrites(output: Writable, onWritten: (chunk: Buffer) => void): Writable {
  const relay = new Writable({
    highWaterMark: RELAY_BUFFER_SIZE,
    writev(chunks, callback) {
      let left = chunks.length;
      let failed = false;
      const written = (chunk: Buffer) => (error?: Error | null) => {
        if (failed) {
          return;
        }
        if (error) {
          failed = true;
          callback(error);
          return;
        }
        onWritten(chunk);
        left--;
        if (left === 0) {
          callback();
        }
      };
      output.cork();
      for (const { chunk } of chunks) {
        output.write(chunk, written(chunk as Buffer));
      }
      output.uncork();
    },
    final(callback) {
      output.end();
      untilFinished(output).then(() => callback(), callback);
    },
    destroy(error, callback) {
      if (error) {
        output.destroy(error);
      }
      callback(error);
    },
  });
  finished(output, (error) => {
    if (error) {
      relay.destroy(error);
    }
  });
  return relay;
}
