/**
 * What a plugin author reads when a module is refused at start, for the common mistakes of
 * docs/plugins.md §1: a syntax error (the command that shows its line) or a top-level throw (the
 * file and line), no default export or one not made by definePlugin (what to write instead), a
 * name that differs from the manifest's (which two must agree) and a misspelt option (the option
 * meant). Each module is a real file imported in the check thread.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { RelayError } from '../../../core/errors.js';
import { parseManifest } from '../../../core/plugin-host/manifest.js';
import { loadPlugins } from '../../../core/plugin-host/plugin-loader.js';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';

const CORE = pathToFileURL(join(repoRoot(), 'dist', 'core', 'index.js')).href;

/** The start's refusal of a plugin "shout" whose module `file` (index.js) holds `source`. */
async function refusal(
  t: ExecutionContext,
  source: string,
  entry: { options?: Record<string, unknown>; file?: string } = {},
): Promise<RelayError> {
  const dir = tempDir(t, 'relay-plugin-msg-');
  const file = entry.file ?? 'index.js';
  writeFileSync(join(dir, file), source);
  const manifestPath = join(dir, 'plugins.json');
  const plugin = { name: 'shout', module: `./${file}`, ...(entry.options ? { options: entry.options } : {}) };
  const manifest = parseManifest({ apiVersion: 1, plugins: [plugin] }, manifestPath, 2_000);
  const err = await t.throwsAsync(loadPlugins(manifest, manifestPath), { instanceOf: RelayError });
  return err as RelayError;
}

test('a syntax error says how to find its line', async (t) => {
  const err = await refusal(
    t,
    `import { definePlugin } from '${CORE}';\nexport default definePlugin({\n  name: 'shout',\n  inbound({ event }) { return { event: event: 1 }; },\n});\n`,
  );
  t.is(err.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  // was: "the module failed to load: Unexpected token ':'", nothing saying where; Node 20 keeps
  // the line out of the error, so the message names the command that shows it
  t.regex(err.message, /SyntaxError: Unexpected token ':' \(`node --check \/.*\/index\.js` shows the line/);
});

test('a throw at the top level names the file and line', async (t) => {
  const err = await refusal(t, `const options = undefined;\n\nexport const x = options.suffix;\n`);
  t.is(err.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  t.regex(err.message, /TypeError: Cannot read properties of undefined.* \(at \/.*\/index\.js:3\)/);
});

test('no default export: says so, names the exports, and what to write', async (t) => {
  const err = await refusal(
    t,
    `import { definePlugin } from '${CORE}';\nexport const plugin = definePlugin({ name: 'shout' });\n`,
  );
  t.is(err.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  // was: "the default export was not made by definePlugin()", for a module with no default at all
  t.regex(err.message, /has no default export \(it exports: plugin\)/);
  t.regex(err.message, /export default definePlugin\(\{/);
});

test('a default export not made by definePlugin: says what it is and what to write', async (t) => {
  const err = await refusal(t, `export default { name: 'shout', inbound() {} };\n`);
  t.is(err.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  t.regex(err.message, /the default export is an object not made by definePlugin\(\)/);
  t.regex(err.message, /import \{ definePlugin \} from 'relay-sidecar'/);
});

test('a name mismatch says which two names must agree', async (t) => {
  const err = await refusal(
    t,
    `import { definePlugin } from '${CORE}';\nexport default definePlugin({ name: 'shouter' });\n`,
  );
  t.is(err.code, 'CORE_ERR_PLUGIN_NAME_MISMATCH');
  t.regex(
    err.message,
    /declares the name "shouter".*the manifest entry's name "shout" and definePlugin\(\{ name \}\) must be the same/,
  );
});

test('a misspelt option names the option meant', async (t) => {
  const zod = import.meta.resolve('zod');
  const err = await refusal(
    t,
    `import { definePlugin } from '${CORE}';\nimport { z } from '${zod}';\nexport default definePlugin({ name: 'shout', options: z.strictObject({ suffix: z.string().default('!') }) });\n`,
    { options: { sufix: '!!' } },
  );
  t.is(err.code, 'CORE_ERR_PLUGIN_OPTIONS_INVALID');
  // was: 'options: (root): Unrecognized key: "sufix"', as config keys once were
  t.regex(err.message, /unknown key "sufix": did you mean "suffix"\?/);
});

test('a TypeScript module says to build it and point the manifest at the JavaScript', async (t) => {
  const err = await refusal(t, 'export default 1 as number;\n', { file: 'index.ts' });
  t.is(err.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  // was: 'Unknown file extension ".ts" for …', and no word on what to do
  t.regex(err.message, /Unknown file extension "\.ts".*compile it to JavaScript .*"module" at the \.js/);
});

test('a misspelt hook in the declaration refuses the start, naming the hook meant', async (t) => {
  // was: loaded, and the hook never ran: a plain-JS plugin has no type checker to catch `inbond`
  const err = await refusal(
    t,
    `import { definePlugin } from '${CORE}';\nexport default definePlugin({ name: 'shout', inbond() { return undefined; } });\n`,
  );
  t.is(err.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  t.regex(
    err.message,
    /plugin "shout".*unknown key "inbond" in its definePlugin\(\{…\}\): did you mean "inbound"\?/,
  );
});

test('a key definePlugin does not know refuses the start, listing the keys it takes', async (t) => {
  const err = await refusal(
    t,
    `import { definePlugin } from '${CORE}';\nexport default definePlugin({ name: 'shout', description: 'loud' });\n`,
  );
  t.is(err.code, 'CORE_ERR_PLUGIN_LOAD_FAILED');
  t.regex(
    err.message,
    /unknown key "description" in its definePlugin\(\{…\}\) \(a plugin declares name, version, options, passthrough, inbound, outbound, ops\)/,
  );
});
