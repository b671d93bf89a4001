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

/**
 * A plugin module `name`.js whose import runs `whenFlagged` (a statement, or a block) once its
 * flag is raised: the workers that import it afterwards (replacements) do, the running ones
 * already did not. Its absolute path, and `raise` to create the flag file.
 */
export function flaggedPluginModule(
  t: ExecutionContext,
  name: string,
  whenFlagged: string,
  extra = '',
): { readonly module: string; readonly raise: () => void } {
  const flag = join(tempDir(t), `${name}.flag`);
  const prelude = `import { existsSync } from 'node:fs';\nif (existsSync(${JSON.stringify(flag)})) ${whenFlagged}`;
  return { module: pluginModule(t, name, prelude, extra), raise: () => writeFileSync(flag, '') };
}
