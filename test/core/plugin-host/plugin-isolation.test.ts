/**
 * The start-up check imports each plugin in a short-lived worker thread, never on the main thread
 * (the one that reads the socket and serves the agent API): a module's top-level code — a loop, a
 * timer that throws later, an interval — and its options schema run there, bounded by the load
 * limit, and end with that thread. Each module is a real file written to a temp dir.
 */
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import { parseManifest } from '../../../core/plugin-host/manifest.js';
import { loadPlugins } from '../../../core/plugin-host/plugin-loader.js';
import { pluginModule } from '../../helpers/plugin-module.js';

function load(entries: { name: string; module: string }[], loadTimeoutMs?: number) {
  const path = '/irrelevant/plugins.json';
  return loadPlugins(parseManifest({ apiVersion: 1, plugins: entries }, path, 2_000), path, loadTimeoutMs);
}

/** Count turns of this thread's event loop while `work` runs. */
async function turnsDuring<T>(
  work: Promise<T>,
): Promise<{ turns: number; settled: PromiseSettledResult<T> }> {
  let turns = 0;
  const ticker = setInterval(() => turns++, 5);
  try {
    const [settled] = await Promise.allSettled([work]);
    return { turns, settled: settled as PromiseSettledResult<T> };
  } finally {
    clearInterval(ticker);
  }
}

test('a module that loops forever at top level is refused after the load limit; this thread turns meanwhile', async (t) => {
  const module = pluginModule(t, 'spins', 'for (;;) {}');
  const { turns, settled } = await turnsDuring(load([{ name: 'spins', module }], 300));
  if (settled.status !== 'rejected') return t.fail('the looping module was accepted');
  const err = settled.reason as RelayError;
  t.true(err instanceof RelayError);
  t.is(err.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  t.true(
    err.message.startsWith(`plugin "spins" (${module}): the module did not finish loading within 300 ms`),
  );
  t.true(turns > 0, 'the main thread was blocked');
});

test('an options schema that loops is refused after the load limit, naming the plugin', async (t) => {
  const module = pluginModule(t, 'spinning-options', '', 'options: { safeParse() { for (;;) {} } }');
  const err = await t.throwsAsync(load([{ name: 'spinning-options', module }], 1_000), {
    instanceOf: RelayError,
  });
  t.is(err?.code, 'CORE_ERR_PLUGIN_OPTIONS_INVALID');
  t.regex(
    err?.message ?? '',
    /^plugin "spinning-options" .*: options: the options schema did not finish within 1000 ms/,
  );
});

test('a top-level timer that throws while the module loads is refused, naming the plugin; this process is untouched', async (t) => {
  // the throw comes before the module finishes loading, so it surely fires during the check
  const prelude =
    "setTimeout(() => { throw new Error('late boom'); }, 1);\n" +
    'await new Promise((resolve) => setTimeout(resolve, 50));';
  const module = pluginModule(t, 'late-boom', prelude);
  const err = await t.throwsAsync(load([{ name: 'late-boom', module }]), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  t.regex(err?.message ?? '', /^plugin "late-boom" .*threw and nothing caught it \(Error: late boom\)/);
});

for (const [name, prelude] of [
  ['top-rejection', "Promise.reject(new Error('nobody handles me'));"],
  ['top-microtask', "queueMicrotask(() => { throw new Error('in a microtask'); });"],
  ['top-immediate', "setImmediate(() => { throw new Error('in an immediate'); });"],
  ['top-exit-later', 'setImmediate(() => process.exit(3));'],
  // a worker shares the sidecar's pid: without the check thread's trap this ends the test process
  ['top-kill-later', 'setImmediate(() => process.kill(process.pid));'],
] as const) {
  test(`a stray error in the first turn of a module (${name}) is refused at start, naming the plugin`, async (t) => {
    const fine = pluginModule(t, 'fine', '');
    const module = pluginModule(t, name, prelude);
    const err = await t.throwsAsync(
      load([
        { name: 'fine', module: fine },
        { name, module },
      ]),
      { instanceOf: RelayError },
    );
    t.is(err?.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
    t.regex(err?.message ?? '', new RegExp(`^plugin "${name}" `));
  });
}

test("a timer firing after the module's first turn is left to the pool's workers; one of an earlier module is not blamed on a later one", async (t) => {
  // fires while the next module's import is still waiting: its stack names its own module
  const early = pluginModule(t, 'early-timer', "setTimeout(() => { throw new Error('early'); }, 20);");
  const slow = pluginModule(t, 'slow-import', 'await new Promise((resolve) => setTimeout(resolve, 200));');
  const later = pluginModule(t, 'later-timer', "setTimeout(() => { throw new Error('later'); }, 1_000);");
  const loaded = await load([
    { name: 'early-timer', module: early },
    { name: 'slow-import', module: slow },
    { name: 'later-timer', module: later },
  ]);
  t.deepEqual(
    loaded.enabled.map((p) => p.info.name),
    ['early-timer', 'slow-import', 'later-timer'],
  );
});

test('the main thread never imports a plugin module: its top-level code and intervals run elsewhere', async (t) => {
  const key = `pluginTopLevel${process.pid}`;
  const prelude = `globalThis.${key} = 0;\n` + `setInterval(() => { globalThis.${key}++; }, 1);`;
  const module = pluginModule(t, 'ticker', prelude, "version: '2.0.0', inbound: () => undefined");
  const loaded = await load([{ name: 'ticker', module }]);
  // what the main thread learns is a plain description
  t.like(loaded.enabled[0], { url: pathToFileURL(module).href, info: { version: '2.0.0', inbound: true } });
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.false(key in globalThis);
});

test('the first problem in manifest order is reported, the check thread stopping at it', async (t) => {
  const spins = pluginModule(t, 'spins', 'for (;;) {}');
  const fine = pluginModule(t, 'fine', '');
  // a loop before a missing file: the loop is the first problem
  const err = await t.throwsAsync(
    load(
      [
        { name: 'fine', module: fine },
        { name: 'spins', module: spins },
        { name: 'ghost', module: '/nonexistent/ghost.js' },
      ],
      1_000,
    ),
    { instanceOf: RelayError },
  );
  t.regex(err?.message ?? '', /^plugin "spins"/);
  // a missing file before a loop: the loop is never loaded
  const missing = await t.throwsAsync(
    load(
      [
        { name: 'ghost', module: '/nonexistent/ghost.js' },
        { name: 'spins', module: spins },
      ],
      60_000,
    ),
    { instanceOf: RelayError },
  );
  t.regex(missing?.message ?? '', /^plugin "ghost"/);
});
