import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { RelayError } from '../../../core/errors.js';
import {
  MAX_PLUGINS,
  parseManifest,
  readManifest,
  resolvePluginModule,
} from '../../../core/plugin-host/manifest.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { installFixturePackages, writeManifest } from './fixture-host.js';

const DEFAULT_TIMEOUT = 2_000;

function invalid(t: import('ava').ExecutionContext, raw: unknown): string {
  const err = t.throws(() => parseManifest(raw, 'plugins.json', DEFAULT_TIMEOUT), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_PLUGIN_MANIFEST_INVALID');
  return err?.message ?? '';
}

const entry = (over: Record<string, unknown> = {}) => ({ name: 'p', module: './p.js', ...over });

test('defaults: enabled, empty options, the pool task timeout', (t) => {
  const m = parseManifest({ apiVersion: 1, plugins: [entry()] }, 'plugins.json', DEFAULT_TIMEOUT);
  t.deepEqual(m.plugins[0], {
    name: 'p',
    module: './p.js',
    enabled: true,
    options: {},
    timeoutMs: DEFAULT_TIMEOUT,
  });
});

test('an empty plugin list is valid', (t) => {
  t.deepEqual(parseManifest({ apiVersion: 1, plugins: [] }, 'x', DEFAULT_TIMEOUT).plugins, []);
});

test('a manifest that does not exist says so and where it is looked for', (t) => {
  const path = join(tempDir(t), 'plugins.json');
  const err = t.throws(() => readManifest(path, DEFAULT_TIMEOUT), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_PLUGIN_MANIFEST_INVALID');
  // was: "cannot read the file: ENOENT"
  t.regex(
    err?.message ?? '',
    /the file does not exist: point SIDECAR_PLUGINS \(or --plugins\) at the manifest; it is \.\/plugins\.json of the working directory by default/,
  );
});

test('the project plugins.json is valid', (t) => {
  const m = readManifest(join(repoRoot(), 'plugins.json'), DEFAULT_TIMEOUT);
  t.true(m.plugins.length > 0);
});

const entryCases: [string, Record<string, unknown>, RegExp][] = [
  ['an unknown key', { enabeld: false }, /enabeld/],
  ['a non-boolean enabled', { enabled: 'yes' }, /enabled/],
  ['a zero timeout', { timeoutMs: 0 }, /timeoutMs/],
  ['a fractional timeout', { timeoutMs: 1.5 }, /timeoutMs/],
  ['array options', { options: [1] }, /options/],
  ['an empty module', { module: '' }, /module/],
];
for (const [label, over, key] of entryCases) {
  test(`an entry with ${label} is refused, naming the plugin and the key`, (t) => {
    const message = invalid(t, { apiVersion: 1, plugins: [entry({ name: 'my-plugin', ...over })] });
    t.regex(message, /plugin "my-plugin"/);
    t.regex(message, key);
  });
}

test('a bad name is refused', (t) => {
  t.regex(invalid(t, { apiVersion: 1, plugins: [entry({ name: 'has space' })] }), /plugins\[0\]\.name/);
  invalid(t, { apiVersion: 1, plugins: [entry({ name: '' })] });
});

test('duplicate names are refused, naming the plugin', (t) => {
  const message = invalid(t, {
    apiVersion: 1,
    plugins: [entry({ name: 'twice' }), entry({ name: 'twice' })],
  });
  t.regex(message, /plugins\[1\]\.name \(plugin "twice"\): duplicate name/);
});

test('top-level problems are refused', (t) => {
  invalid(t, { apiVersion: 2, plugins: [] });
  invalid(t, { plugins: [] });
  invalid(t, { apiVersion: 1 });
  t.regex(invalid(t, { apiVersion: 1, plugins: [], extra: true }), /extra/);
  invalid(t, []);
  invalid(t, null);
});

test('a manifest lists at most MAX_PLUGINS plugins', (t) => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => entry({ name: `p${i}` }));
  const m = parseManifest({ apiVersion: 1, plugins: many(MAX_PLUGINS) }, 'plugins.json', DEFAULT_TIMEOUT);
  t.is(m.plugins.length, MAX_PLUGINS);
  t.regex(invalid(t, { apiVersion: 1, plugins: many(MAX_PLUGINS + 1) }), /plugins/);
});

test('an unreadable or non-JSON file is refused', (t) => {
  const missing = t.throws(() => readManifest('/nonexistent/plugins.json', DEFAULT_TIMEOUT), {
    instanceOf: RelayError,
  });
  t.is(missing?.code, 'CORE_ERR_PLUGIN_MANIFEST_INVALID');
  const { manifestPath } = writeManifest(t, '{"apiVersion": 1, ');
  const broken = t.throws(() => readManifest(manifestPath, DEFAULT_TIMEOUT), { instanceOf: RelayError });
  t.is(broken?.code, 'CORE_ERR_PLUGIN_MANIFEST_INVALID');
  t.true(broken?.message.includes(manifestPath));
});

test('a non-JSON manifest is refused without quoting it: plugin options may hold credentials', (t) => {
  const secret = 'sk-live-0123456789abcdef';
  for (const text of [
    `{"apiVersion": 1, "plugins": [{"name": "p", "module": "./p.js", "options": {"apiKey": "${secret}"}]}`,
    `{"apiVersion": 1, "plugins": [{"name": "p", "module": "./p.js", "options": {"apiKey": ${secret}}}]}`,
  ]) {
    const { manifestPath } = writeManifest(t, text);
    const err = t.throws(() => readManifest(manifestPath, DEFAULT_TIMEOUT), { instanceOf: RelayError });
    t.is(err?.code, 'CORE_ERR_PLUGIN_MANIFEST_INVALID');
    // was: V8's message, which quotes the text around the fault (`…""apiKey": sk-live-01"… is not valid JSON`)
    t.false(/live|0123/.test(err?.message ?? ''), err?.message);
    t.regex(err?.message ?? '', /\n {2}not valid JSON: /);
  }
});

test('a manifest any local user may change is refused: they could name a module of theirs', (t) => {
  const { dir, manifestPath } = writeManifest(t, { apiVersion: 1, plugins: [] });
  chmodSync(manifestPath, 0o666);
  const err = t.throws(() => readManifest(manifestPath, DEFAULT_TIMEOUT), { instanceOf: RelayError });
  t.is(err?.code, 'CORE_ERR_PLUGIN_MANIFEST_INVALID');
  t.regex(err?.message ?? '', /plugins\.json is writable by every local user \(mode 0666\).*chmod o-w /);
  chmodSync(manifestPath, 0o644);
  chmodSync(dir, 0o777);
  const inDir = t.throws(() => readManifest(manifestPath, DEFAULT_TIMEOUT), { instanceOf: RelayError });
  t.regex(
    inDir?.message ?? '',
    /its directory .* is writable by every local user \(mode 0777\): anyone could replace the manifest/,
  );
  chmodSync(dir, 0o755);
  t.deepEqual(readManifest(manifestPath, DEFAULT_TIMEOUT).plugins, []);
});

test('module paths resolve relative to the manifest; file URLs and absolute paths as given', (t) => {
  t.is(resolvePluginModule('./x/y.js', '/etc/relay/plugins.json'), '/etc/relay/x/y.js');
  t.is(resolvePluginModule('../y.js', '/etc/relay/plugins.json'), '/etc/y.js');
  t.is(resolvePluginModule('/opt/p.js', '/etc/relay/plugins.json'), '/opt/p.js');
  t.is(resolvePluginModule('file:///opt/p.js', '/etc/relay/plugins.json'), '/opt/p.js');
});

test("package specifiers resolve through this package's exports", async (t) => {
  const manifest = join(repoRoot(), 'plugins.json');
  t.is(resolvePluginModule('relay-sidecar/core', manifest), join(repoRoot(), 'dist', 'core', 'index.js'));
  t.is(
    resolvePluginModule('relay-sidecar/plugins/twilio', manifest),
    join(repoRoot(), 'dist', 'plugins', 'twilio', 'index.js'),
  );
  const missing = t.throws(() => resolvePluginModule('relay-sidecar-no-such-package', manifest));
  t.regex(missing?.message ?? '', /^ERR_MODULE_NOT_FOUND: /);
});

test('installed packages resolve as import() would, from the manifest directory', async (t) => {
  const dir = tempDir(t);
  installFixturePackages(dir);
  const manifest = join(dir, 'plugins.json');
  const modules = join(dir, 'node_modules');
  // exports "." under "import" only: the CommonJS resolver finds no entry point at all
  t.is(resolvePluginModule('esm-only-plugin', manifest), join(modules, 'esm-only-plugin', 'index.js'));
  // "require" listed first: an ESM resolver still takes "import"
  t.is(resolvePluginModule('dual-package', manifest), join(modules, 'dual-package', 'index.mjs'));
  // no exports: the main field
  t.is(resolvePluginModule('main-only', manifest), join(modules, 'main-only', 'lib', 'main.js'));
  // a subpath the exports do not list
  const hidden = t.throws(() => resolvePluginModule('esm-only-plugin/index.js', manifest));
  t.regex(hidden?.message ?? '', /^ERR_PACKAGE_PATH_NOT_EXPORTED: /);
  // from another directory the packages are not installed
  const elsewhere = t.throws(() => resolvePluginModule('esm-only-plugin', join(tempDir(t), 'plugins.json')));
  t.regex(elsewhere?.message ?? '', /^ERR_MODULE_NOT_FOUND: /);
});

test('a specifier that resolves to something other than a file is refused', (t) => {
  const err = t.throws(() => resolvePluginModule('node:fs', join(tempDir(t), 'plugins.json')));
  t.regex(err?.message ?? '', /node:fs, not a file/);
});

const clearCases: [string, unknown, RegExp][] = [
  [
    'a misspelt key',
    { enable: false },
    /plugins\[0\] \(plugin "my-plugin"\): unknown key "enable": did you mean "enabled"\?/,
  ],
  [
    'enabled in quotes',
    { enabled: 'true' },
    /plugins\[0\]\.enabled \(plugin "my-plugin"\): must be true or false, without quotes/,
  ],
  [
    'a timeout with a unit',
    { timeoutMs: '2s' },
    /plugins\[0\]\.timeoutMs \(plugin "my-plugin"\): must be a plain number of ms, without a unit or quotes/,
  ],
  [
    'a zero timeout',
    { timeoutMs: 0 },
    /plugins\[0\]\.timeoutMs \(plugin "my-plugin"\): must be greater than 0 ms/,
  ],
  [
    'a timeout past its bound',
    { timeoutMs: 10_000_000 },
    /plugins\[0\]\.timeoutMs \(plugin "my-plugin"\): must be at most 600000 ms/,
  ],
  ['an empty module', { module: '' }, /plugins\[0\]\.module \(plugin "my-plugin"\): must not be blank/],
  [
    'a list of options',
    { options: [] },
    /plugins\[0\]\.options \(plugin "my-plugin"\): must be an object of keys, not a list/,
  ],
];
for (const [label, over, says] of clearCases) {
  test(`an entry with ${label} says what the field takes, not zod's words`, (t) => {
    // was: 'Unrecognized key: "enable"', 'Invalid input: expected boolean, received string',
    // 'Too small: expected number to be >0', … (spec: "a message naming the plugin and the problem")
    const message = invalid(t, {
      apiVersion: 1,
      plugins: [entry({ name: 'my-plugin', ...(over as object) })],
    });
    t.regex(message, says);
    t.notRegex(message, /Invalid input|Unrecognized key|Too (small|big)/);
  });
}

test('top-level problems say what the manifest takes', (t) => {
  t.regex(invalid(t, { apiVersion: 2, plugins: [] }), /apiVersion: must be 1: the only manifest format/);
  t.regex(invalid(t, { apiVersion: '1', plugins: [] }), /apiVersion: must be 1: the only manifest format/);
  t.regex(invalid(t, { apiVersion: 1 }), /plugins: is required: a list/);
  t.regex(
    invalid(t, { apiVersion: 1, plugins: [{ module: './p.js' }] }),
    /plugins\[0\]\.name: is required: a string/,
  );
  t.regex(
    invalid(t, { apiVersion: 1, plugins: [], plugin: [] }),
    /\(root\): unknown key "plugin": did you mean "plugins"\?/,
  );
  t.regex(invalid(t, []), /\(root\): must be an object of keys, not a list/);
});

for (const module of ['   ', ' ./p.js', './p.js\n']) {
  test(`a module ${JSON.stringify(module)} with blanks around it is refused naming the field`, (t) => {
    // was: accepted, then refused at load as `Cannot find package ' ./p.js'`, the blank unseen
    t.regex(
      invalid(t, { apiVersion: 1, plugins: [entry({ name: 'my-plugin', module })] }),
      /plugins\[0\]\.module \(plugin "my-plugin"\): must not be blank or start or end with blanks: a path relative to the manifest/,
    );
  });
}
