import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { type ErrorCode, RelayError } from '../../../core/errors.js';
import { Metrics } from '../../../core/metrics/metrics.js';
import { parseManifest } from '../../../core/plugin-host/manifest.js';
import { PluginHost } from '../../../core/plugin-host/plugin-host.js';
import { loadPlugins } from '../../../core/plugin-host/plugin-loader.js';
import { PluginTable } from '../../../core/plugin-host/plugin-table.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { testConfig } from '../../helpers/test-config.js';
import {
  type Entry,
  fixture,
  forward as forwardOf,
  installFixturePackages,
  manifestOf,
  writeManifest,
} from './fixture-host.js';

const MANIFEST_PATH = '/irrelevant/plugins.json';

function load(entries: Entry[]) {
  return loadPlugins(parseManifest(manifestOf(entries), MANIFEST_PATH, 2_000), MANIFEST_PATH);
}

async function refused(
  t: ExecutionContext,
  entries: Entry[],
  code: ErrorCode,
  plugin: string,
): Promise<string> {
  const err = await t.throwsAsync(load(entries), { instanceOf: RelayError });
  t.is(err?.code, code);
  t.true(err?.message.includes(`plugin "${plugin}"`), err?.message);
  return err?.message ?? '';
}

test('enabled plugins are loaded and described; disabled ones are listed, never imported', async (t) => {
  const loaded = await load([
    { name: 'echo' },
    // a disabled entry whose module does not even exist
    { name: 'ghost', module: '/nonexistent/ghost.js', enabled: false },
    { name: 'fault-throws' },
  ]);
  t.deepEqual(
    loaded.enabled.map((p) => p.info.name),
    ['echo', 'fault-throws'],
  );
  t.deepEqual(
    loaded.infos.map((p) => [p.name, p.enabled]),
    [
      ['echo', true],
      ['ghost', false],
      ['fault-throws', true],
    ],
  );
  t.deepEqual(loaded.infos[0], {
    name: 'echo',
    version: '1.0.0',
    enabled: true,
    module: fixture('echo'),
    passthrough: ['echo'],
    inbound: true,
    outboundOps: ['send', 'echo_ping'],
    ops: ['echo_ping'],
  });
  t.deepEqual(loaded.infos[1]?.passthrough, []);
});

test('a module that cannot be found fails to load, naming the file and where a relative path starts', async (t) => {
  const message = await refused(
    t,
    [{ name: 'echo', module: '/nonexistent/echo.js' }],
    'CORE_ERR_PLUGIN_LOAD_FAILED',
    'echo',
  );
  // was: Node's "Cannot find module '…' imported from …/core/plugin-host/plugin-loader.js"
  t.regex(message, /: the file \/nonexistent\/echo\.js does not exist$/);
  // the path is the operator's, shown whole: a mixed-case segment is no key here
  const named = await refused(
    t,
    [{ name: 'echo', module: '/srv/relay/SlackNotifierV2Plugin2024/index.js' }],
    'CORE_ERR_PLUGIN_LOAD_FAILED',
    'echo',
  );
  t.regex(named, /: the file \/srv\/relay\/SlackNotifierV2Plugin2024\/index\.js does not exist$/);
  const relative = await refused(
    t,
    [{ name: 'echo', module: './plugins/echo.js' }],
    'CORE_ERR_PLUGIN_LOAD_FAILED',
    'echo',
  );
  t.regex(
    relative,
    /: the file \/irrelevant\/plugins\/echo\.js does not exist \(a relative module path starts from the manifest's directory, \/irrelevant\)$/,
  );
});

test('a package that cannot be resolved fails to load', async (t) => {
  const message = await refused(
    t,
    [{ name: 'pkg', module: 'no-such-relay-plugin' }],
    'CORE_ERR_PLUGIN_LOAD_FAILED',
    'pkg',
  );
  t.regex(message, /resolve/);
});

test('a module that throws at import fails to load', async (t) => {
  await refused(t, [{ name: 'broken-import' }], 'CORE_ERR_PLUGIN_LOAD_FAILED', 'broken-import');
});

test('a default export not made by definePlugin fails to load', async (t) => {
  const message = await refused(t, [{ name: 'not-a-plugin' }], 'CORE_ERR_PLUGIN_LOAD_FAILED', 'not-a-plugin');
  t.regex(message, /definePlugin/);
});

test('a declared name different from the manifest name is a mismatch', async (t) => {
  const message = await refused(t, [{ name: 'misnamed' }], 'CORE_ERR_PLUGIN_NAME_MISMATCH', 'misnamed');
  t.regex(message, /something-else/);
});

test("options failing the plugin's own schema are refused", async (t) => {
  const message = await refused(
    t,
    [{ name: 'echo', options: { tag: 42 } }],
    'CORE_ERR_PLUGIN_OPTIONS_INVALID',
    'echo',
  );
  t.regex(message, /tag/);
  await refused(t, [{ name: 'echo', options: { unknown: true } }], 'CORE_ERR_PLUGIN_OPTIONS_INVALID', 'echo');
});

test('a plugin without an options schema accepts only empty options', async (t) => {
  await t.notThrowsAsync(load([{ name: 'fault-throws', options: {} }]));
  await refused(
    t,
    [{ name: 'fault-throws', options: { x: 1 } }],
    'CORE_ERR_PLUGIN_OPTIONS_INVALID',
    'fault-throws',
  );
});

test('two plugins claiming one platform or op conflict', async (t) => {
  const loaded = await load([{ name: 'echo' }, { name: 'echo-twin' }]);
  const err = t.throws(() => new PluginTable(loaded.enabled), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_PLUGIN_CONFLICT');
  t.regex(err?.message ?? '', /"echo".*"echo-twin"/);
  // disabling either side resolves it
  const fine = await load([{ name: 'echo' }, { name: 'echo-twin', enabled: false }]);
  t.notThrows(() => new PluginTable(fine.enabled));
});

test('the sidecar refuses to start: PluginHost.load rejects with the problem', async (t) => {
  const { dir, manifestPath } = writeManifest(t, manifestOf([{ name: 'echo' }, { name: 'misnamed' }]));
  const sink = createLogSink();
  const err = await t.throwsAsync(
    PluginHost.load({
      manifestPath,
      config: testConfig({ dataDir: dir }),
      log: sink.logger,
      metrics: new Metrics(),
    }),
    { instanceOf: RelayError },
  );
  t.is(err?.code, 'CORE_ERR_PLUGIN_NAME_MISMATCH');
  t.regex(err?.message ?? '', /plugin "misnamed"/);
});

test('an installed ESM-only plugin package loads by its name and runs in the pool', async (t) => {
  const { dir, manifestPath } = writeManifest(
    t,
    manifestOf([{ name: 'esm-only-plugin', module: 'esm-only-plugin', timeoutMs: 10_000 }]),
  );
  installFixturePackages(dir);
  const host = await PluginHost.load({
    manifestPath,
    config: testConfig({ dataDir: dir, pool: { minThreads: 1, maxThreads: 1 } }),
    log: createLogSink().logger,
    metrics: new Metrics(),
  });
  t.teardown(() => host.close());
  t.like(host.plugins[0], { name: 'esm-only-plugin', version: '1.0.0', module: 'esm-only-plugin' });
  const outcome = await host.convertForward(forwardOf('esm-only', 'hello'));
  t.like(outcome, { kind: 'events', plugin: 'esm-only-plugin', events: [{ event: { text: 'hello' } }] });
});

/** A self-contained plugin file `name`.js in `dir` (definePlugin imported by absolute URL). */
function pluginFile(dir: string, name: string): string {
  const core = pathToFileURL(join(repoRoot(), 'dist', 'core', 'index.js')).href;
  const file = join(dir, `${name}.js`);
  writeFileSync(
    file,
    `import { definePlugin } from ${JSON.stringify(core)};\nexport default definePlugin({ name: ${JSON.stringify(name)} });\n`,
  );
  return file;
}

test('a plugin module any local user may change is refused, its real file named: through a link too', async (t) => {
  const root = tempDir(t);
  const dir = join(root, 'code');
  mkdirSync(dir, { mode: 0o755 });
  const file = pluginFile(dir, 'loose');
  chmodSync(file, 0o666);
  const direct = await refused(t, [{ name: 'loose', module: file }], 'CORE_ERR_PLUGIN_LOAD_FAILED', 'loose');
  t.true(
    direct.endsWith(
      `: ${file} is writable by every local user (mode 0666): anyone could run code as the sidecar; chmod o-w ${file}`,
    ),
    direct,
  );
  // the manifest names a link: the file Node loads is its target, and that one is checked
  const link = join(root, 'loose.js');
  symlinkSync(file, link);
  const linked = await refused(t, [{ name: 'loose', module: link }], 'CORE_ERR_PLUGIN_LOAD_FAILED', 'loose');
  t.true(linked.includes(`: ${file} is writable by every local user`), linked);
  chmodSync(file, 0o644);
  t.is((await load([{ name: 'loose', module: link }])).enabled.length, 1);
});

test('a plugin module in a directory any local user may write to is refused; a sticky one (/tmp) is fine', async (t) => {
  const dir = join(tempDir(t), 'code');
  mkdirSync(dir);
  const file = pluginFile(dir, 'open-dir');
  chmodSync(file, 0o644);
  chmodSync(dir, 0o777);
  const message = await refused(
    t,
    [{ name: 'open-dir', module: file }],
    'CORE_ERR_PLUGIN_LOAD_FAILED',
    'open-dir',
  );
  t.true(
    message.endsWith(
      `: its directory ${dir} is writable by every local user (mode 0777): anyone could replace the module and run code as the sidecar; chmod o-w ${dir}`,
    ),
    message,
  );
  // sticky: others may add files there, not replace this one
  chmodSync(dir, 0o1777);
  t.is((await load([{ name: 'open-dir', module: file }])).enabled.length, 1);
});

test('the sidecar logs the file each plugin was loaded from', async (t) => {
  const { dir, manifestPath } = writeManifest(t, '{}');
  const file = pluginFile(dir, 'located');
  const link = join(dir, 'located-link.js');
  symlinkSync(file, link);
  writeFileSync(manifestPath, JSON.stringify(manifestOf([{ name: 'located', module: './located-link.js' }])));
  const sink = createLogSink();
  const host = await PluginHost.load({
    manifestPath,
    config: testConfig({ dataDir: dir, pool: { minThreads: 1, maxThreads: 1 } }),
    log: sink.logger,
    metrics: new Metrics(),
  });
  t.teardown(() => host.close());
  const line = sink.lines.find((l) => l.msg === 'plugin loaded');
  t.like(line, { plugin: 'located', module: './located-link.js', file });
});
