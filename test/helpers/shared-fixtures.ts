/**
 * Locate and load the shared test vectors in `<repo>/../shared/fixtures/`, wherever the test runs
 * from (source tree or compiled `dist/`): walk up from this file to the repository root (the first
 * directory holding a `package.json` whose sibling `shared/fixtures` exists).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedDir: string | undefined;

/** The absolute path of the shared fixtures directory; throws when it cannot be found. */
export function sharedFixturesDir(): string {
  if (cachedDir) return cachedDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, '..', 'shared', 'fixtures');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) {
      cachedDir = candidate;
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('shared fixtures not found: expected <repo>/../shared/fixtures');
    dir = parent;
  }
}

/** The absolute path of one shared fixture file, e.g. `sharedFixturePath('auth-vectors.json')`. */
export function sharedFixturePath(name: string): string {
  return join(sharedFixturesDir(), name);
}

/** Read and JSON-parse one shared fixture file. */
export function loadSharedFixture<T>(name: string): T {
  return JSON.parse(readFileSync(sharedFixturePath(name), 'utf8')) as T;
}
