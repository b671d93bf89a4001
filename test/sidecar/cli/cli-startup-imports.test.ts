/**
 * `--help`, `--version` and a usage error read only the command line's own modules: loading every
 * command's work up front (the whole sidecar, undici, zod's schemas, prom-client, the dev
 * connector, the doctor) cost ~1 s of CPU on each start. Walks the static imports of the built
 * entry (a command's work is loaded with `import()` when it runs).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { cliPath } from '../../helpers/sidecar-process.js';

/** Every module the built `file` imports statically, transitively: relative files and package names. */
function staticGraph(file: string): Set<string> {
  const seen = new Set<string>();
  const pending = [file];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    if (!next.startsWith('/')) continue;
    // `import … from '…'` and `import '…'`, never `import('…')`
    for (const m of readFileSync(next, 'utf8').matchAll(
      /^\s*(?:import|export)\s+(?:[^;'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm,
    )) {
      const spec = m[1] as string;
      if (spec.startsWith('.')) pending.push(resolve(dirname(next), spec));
      else if (!spec.startsWith('node:'))
        seen.add(spec.startsWith('@') ? spec.split('/', 2).join('/') : (spec.split('/')[0] as string));
    }
  }
  return seen;
}

test("the CLI's entry loads no command's work, and each command's work is still found", (t) => {
  const graph = staticGraph(cliPath());
  const dist = resolve(dirname(cliPath()), '../..');
  const inGraph = (rel: string) => graph.has(resolve(dist, rel));
  t.true(inGraph('sidecar/cli/commands.js'), 'the commands are registered from the entry');
  for (const heavy of [
    'sidecar/app.js',
    'sidecar/cli/run-command.js',
    'sidecar/cli/doctor-command.js',
    'sidecar/dev-connector/index.js',
    'sidecar/demo/run-demo.js',
    'core/config/schema.js',
  ])
    t.false(inGraph(heavy), `${heavy} is not loaded by --help`);
  for (const pkg of ['undici', 'zod', 'prom-client', 'pino', 'better-sqlite3', 'piscina', 'ws'])
    t.false(graph.has(pkg), `${pkg} is not loaded by --help`);
  // the walk is real: the sidecar's own graph holds what the entry's does not
  const app = staticGraph(resolve(dist, 'sidecar/app.js'));
  t.true(app.has('zod') && app.has('undici') && app.has(resolve(dist, 'sidecar/agent-api/server.js')));

  // and every lazily loaded module exists where the commands load it from
  const commands = readFileSync(resolve(dist, 'sidecar/cli/commands.js'), 'utf8');
  const lazy = [...commands.matchAll(/import\('([^']+)'\)/g)].map((m) => m[1] as string);
  t.is(lazy.length, 7);
  const require = createRequire(fileURLToPath(import.meta.url));
  for (const spec of lazy) t.notThrows(() => require.resolve(resolve(dist, 'sidecar/cli', spec)), spec);
});

test('`run` reads and checks its configuration before it loads the sidecar', (t) => {
  const dist = resolve(dirname(cliPath()), '../..');
  const run = staticGraph(resolve(dist, 'sidecar/cli/run-command.js'));
  t.true(run.has(resolve(dist, 'core/config/load.js')) && run.has('zod'));
  // a refused configuration is said without loading the store, the pool, the API and undici
  t.false(run.has(resolve(dist, 'sidecar/app.js')));
  t.false(run.has('undici'));
  t.regex(
    readFileSync(resolve(dist, 'sidecar/cli/run-command.js'), 'utf8'),
    /await import\('\.\.\/app\.js'\)/,
  );
});
