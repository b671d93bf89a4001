/** Where things are, from the compiled tree (`dist/bench/lib/paths.js`). */
import { fileURLToPath } from 'node:url';

/** The repository root. */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../../', import.meta.url));
}

/** A compiled benchmark module, e.g. `benchModule('connector/connector-child.js')`. */
export function benchModule(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}
