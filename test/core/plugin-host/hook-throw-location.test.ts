/**
 * A hook that throws is reported with where it threw: the file and line of the first stack frame
 * outside the sidecar's core, so a plugin author reading `hook threw: TypeError: …` in the log or a
 * dead letter knows which line of their module to look at. Real pool, real module file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { inboundInput, startFixtureHost } from './fixture-host.js';

const CORE = pathToFileURL(join(repoRoot(), 'dist', 'core', 'index.js')).href;

test('a hook that throws is reported with its file and line', async (t) => {
  const dir = tempDir(t, 'relay-hook-throw-');
  const file = join(dir, 'index.js');
  writeFileSync(
    file,
    [
      `import { definePlugin } from '${CORE}';`,
      'export default definePlugin({',
      "  name: 'thrower',",
      '  async inbound({ event }) {',
      '    await Promise.resolve();',
      '    return { event: { ...event, text: event.missing.toUpperCase() } };',
      '  },',
      '});',
      '',
    ].join('\n'),
  );
  const h = await startFixtureHost(t, [{ name: 'thrower', module: file }]);
  const outcome = await h.host.runInbound(inboundInput('hi'));
  if (outcome.kind !== 'failed') return t.fail(JSON.stringify(outcome));
  t.is(outcome.error.code, 'CORE_ERR_PLUGIN_THREW');
  // was: "hook threw: TypeError: Cannot read properties of undefined (reading 'toUpperCase')", no place
  t.regex(
    outcome.error.message,
    /^hook threw: TypeError: Cannot read properties of undefined .* \(at \/.*\/index\.js:6\)$/,
  );
});
