/**
 * A refused start ends the process with its exit code, even when a plugin module left a handle
 * (a timer, a socket) on the main thread as it failed to load: otherwise `relay-sidecar run`
 * printed "start failed" and then stayed up doing nothing, and a supervisor saw it running.
 */
import { join } from 'node:path';
import test from 'ava';
import { repoRoot } from '../../helpers/repo-root.js';
import { runEnv, startRelay } from '../lifecycle/run-fixture.js';
import { spawnCli, tempDir, writeJson } from '../lifecycle/sidecar-child.js';

test('a plugin that fails to load after starting a timer still ends the start with exit 2', async (t) => {
  const relay = await startRelay(t);
  const module = join(repoRoot(), 'dist', 'test', 'fixtures', 'plugins', 'fails-with-timer.js');
  const manifest = writeJson(tempDir(t), 'plugins.json', {
    apiVersion: 1,
    plugins: [{ name: 'fails-with-timer', module }],
  });
  const child = spawnCli(t, ['run'], runEnv(t, relay, { env: { SIDECAR_PLUGINS: manifest } }));
  await child.waitStderr(/CORE_ERR_PLUGIN_LOAD_FAILED/);
  t.is((await child.waitExit()).code, 2);
  t.regex(child.stderr(), /plugin "fails-with-timer"/);
});
