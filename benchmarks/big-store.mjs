// The big store fixture for benchmarks: about 1 GiB of real Debian files in some 260 store items,
// built by the fixture script that exists only beside a developer's checkout.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../shared/fixtures/big-store.sh',
);

/**
 * Returns the root store path of the big store, which the fixture script builds or reuses. Exits
 * the benchmark with status 0, printing the reason, when the fixture script is missing.
 */
export function bigStoreRoot() {
  if (!existsSync(script)) {
    console.log(`skipped: ${script} is missing (it exists only beside the developers' checkout)`);
    process.exit(0);
  }
  return execFileSync('bash', [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

/** Returns the median of `values`. */
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
