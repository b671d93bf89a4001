/** Plugin modules written by a test: real files, in a temp dir of their own, removed with the test. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExecutionContext } from 'ava';
import { repoRoot } from './repo-root.js';
import { tempDir } from './temp-dir.js';

/** The built core's public API, as a plugin imports it. */
const CORE = pathToFileURL(join(repoRoot(), 'dist', 'core', 'index.js')).href;

/**
 * A plugin module `name`.js whose top level runs `prelude`, declaring `extra` (source text of
 * definePlugin fields) beside its name; its absolute path.
 */
export function pluginModule(t: ExecutionContext, name: string, prelude: string, extra = ''): string {
  const file = join(tempDir(t, 'relay-plugin-'), `${name}.js`);
  writeFileSync(
    file,
    `import { definePlugin } from ${JSON.stringify(CORE)};\n${prelude}\n` +
      `export default definePlugin({ name: ${JSON.stringify(name)}, ${extra} });\n`,
  );
  return file;
}

/**
 * A plugin module `slow-import` whose import creates `marker` (a test sees it begin) and then
 * takes `ms` (a busy loop); its absolute path.
 */
export function slowImportModule(t: ExecutionContext, marker: string, ms = 200): string {
  return pluginModule(
    t,
    'slow-import',
    `import { writeFileSync } from 'node:fs';
     writeFileSync(${JSON.stringify(marker)}, '');
     const end = Date.now() + ${ms};
     while (Date.now() < end) {}`,
  );
}
