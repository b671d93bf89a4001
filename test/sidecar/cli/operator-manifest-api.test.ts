/**
 * What an operator sees on a first day of misconfiguration: each mistake gives one message that
 * says what was wrong, where (key, variable, line) and what to do, with a stable code and the
 * exit code docs/operations.md promises — run as the real CLI, in a child process. Here: the
 * plugin manifest, and a read-only command against a running sidecar.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { runChild, startRelay } from '../lifecycle/run-fixture.js';
import { spawnCli, tempDir } from '../lifecycle/sidecar-child.js';

/** `run` with a manifest holding `text`: it ends at the manifest, before anything dials. */
async function runWithManifest(t: ExecutionContext, text: string): Promise<string> {
  const manifest = join(tempDir(t), 'plugins.json');
  writeFileSync(manifest, text);
  const child = spawnCli(t, ['run'], {
    GATEWAY_RELAY_URL: 'http://127.0.0.1:1',
    SIDECAR_PLUGINS: manifest,
    SIDECAR_DATA_DIR: tempDir(t),
    SIDECAR_LISTEN: '127.0.0.1:0',
  });
  t.is((await child.waitExit()).code, 2);
  return child.stderr();
}

test('a manifest with a trailing comma names its line and column', async (t) => {
  const err = await runWithManifest(t, '{\n  "apiVersion": 1,\n  "plugins": [],\n}\n');
  t.regex(err, /CORE_ERR_PLUGIN_MANIFEST_INVALID/);
  t.regex(err, /not valid JSON: .* \(line 4, column 1\)/);
});

test('a manifest outside the installation that names a built-in by package says to name it by path', async (t) => {
  const err = await runWithManifest(
    t,
    JSON.stringify({ apiVersion: 1, plugins: [{ name: 'twilio', module: 'relay-sidecar/plugins/twilio' }] }),
  );
  t.regex(err, /CORE_ERR_PLUGIN_LOAD_FAILED/);
  t.regex(err, /name it by path, "module": "[^"]*\/dist\/plugins\/twilio\/index\.js"/);
});

test('dead-letters against a running sidecar without its token, or with another, says what to do in one line and exits 4', async (t) => {
  const relay = await startRelay(t);
  const run = await runChild(t, relay);
  const port = new URL(await run.child.apiUrl()).port;
  const base = { SIDECAR_LISTEN: `127.0.0.1:${port}`, SIDECAR_DATA_DIR: tempDir(t) };
  const none = spawnCli(t, ['dead-letters', 'list'], base);
  t.is((await none.waitExit()).code, 4);
  t.is(none.stderr().trim().split('\n').length, 1);
  t.regex(
    none.stderr(),
    /^dead-letters: HTTP 401 from the sidecar at 127\.0\.0\.1:\d+: no API token: set SIDECAR_API_TOKEN/,
  );
  const other = spawnCli(t, ['dead-letters', 'list'], { ...base, SIDECAR_API_TOKEN: 'x'.repeat(32) });
  t.is((await other.waitExit()).code, 4);
  t.is(other.stderr().trim().split('\n').length, 1);
  t.regex(other.stderr(), /refused the API token this command took from SIDECAR_API_TOKEN .*--env-path/);
  t.false(other.stderr().includes('x'.repeat(32)));
});
