/**
 * spec/plugins.md: "The core's public API (`core/index.ts`) is the only thing a plugin imports from
 * the project." Every import of every built-in's source is zod, a file of its own folder, the
 * public API or a `node:` module; a built-in reaching into `core/plugin-host/…` or another
 * plugin's folder fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { repoRoot } from '../helpers/repo-root.js';

const PLUGINS = join(repoRoot(), 'plugins');
/** `from '…'` of static imports and re-exports, and `import('…')`. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** The spec limits what a plugin imports from the project; Node's own modules are not the project. */
function allowed(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  return specifier === 'zod' || specifier === '../../core/index.js' || /^\.\/[a-z0-9-]+\.js$/.test(specifier);
}

const builtIns = readdirSync(PLUGINS, { withFileTypes: true }).filter((d) => d.isDirectory());

test('there are the four built-ins to check', (t) => {
  t.deepEqual(builtIns.map((d) => d.name).sort(), [
    'discord-interaction',
    'follow-up',
    'scope-reattacher',
    'twilio',
  ]);
});

for (const dir of builtIns) {
  test(`${dir.name} imports only zod, its own files and the core's public API`, (t) => {
    const files = readdirSync(join(PLUGINS, dir.name)).filter((f) => f.endsWith('.ts'));
    t.true(files.includes('index.ts'));
    const outside = files.flatMap((file) => {
      const source = readFileSync(join(PLUGINS, dir.name, file), 'utf8');
      return [...source.matchAll(SPECIFIER)]
        .map((m) => `${file}: ${m[1]}`)
        .filter((s) => !allowed(s.split(': ')[1] ?? ''));
    });
    t.deepEqual(outside, []);
  });
}
