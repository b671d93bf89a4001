/**
 * What a plugin author reads when a hook fails: a throw is reported with where it threw (the file
 * and line of the first stack frame outside the sidecar's core), and a verdict of the wrong shape
 * at its top level with the shapes that hook may return. Real pool, real module file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { repoRoot } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { inboundInput, startFixtureHost } from './fixture-host.js';

const CORE = pathToFileURL(join(repoRoot(), 'dist', 'core', 'index.js')).href;

/** The failure of an inbound chain whose one plugin's hook has `body` (line 5 of its module on). */
async function inboundFailure(t: ExecutionContext, body: string[]) {
  const file = join(tempDir(t, 'relay-hook-msg-'), 'index.js');
  const lines = [
    `import { definePlugin } from '${CORE}';`,
    'export default definePlugin({',
    "  name: 'careless',",
    '  async inbound({ event }) {',
    ...body,
    '  },',
    '});',
    '',
  ];
  writeFileSync(file, lines.join('\n'));
  const h = await startFixtureHost(t, [{ name: 'careless', module: file }]);
  const outcome = await h.host.runInbound(inboundInput('hi'));
  if (outcome.kind !== 'failed') throw new Error(JSON.stringify(outcome));
  return outcome.error;
}

test('a hook that throws is reported with its file and line', async (t) => {
  const error = await inboundFailure(t, [
    '    await Promise.resolve();',
    '    return { event: { ...event, text: event.missing.toUpperCase() } };',
  ]);
  t.is(error.code, 'CORE_ERR_PLUGIN_THREW');
  // was: "hook threw: TypeError: Cannot read properties of undefined (reading 'toUpperCase')", no place
  t.regex(
    error.message,
    /^hook threw: TypeError: Cannot read properties of undefined .* \(at \/.*\/index\.js:6\)$/,
  );
});

test('a verdict of the wrong shape at its top level names the shapes the hook may return', async (t) => {
  const error = await inboundFailure(t, ['    return { evnt: event };']);
  t.is(error.code, 'CORE_ERR_PLUGIN_BAD_RESULT');
  // was: 'hook returned a bad result: (root): Unrecognized key: "evnt"', and nothing on what goes there
  t.regex(
    error.message,
    /Unrecognized key: "evnt" \(an inbound hook returns nothing, \{event\?, capabilities\?\} or \{drop: 'reason'\}\)$/,
  );
  // one deeper down names its field and is left as it is
  const deeper = await inboundFailure(t, ['    return { event: { ...event, text: 42 } };']);
  t.regex(deeper.message, /^hook returned a bad result: event: text: .*string.*received number$/);
});

test("the place is the hook's stack frame, never a file URL its message mentions", async (t) => {
  // the stack begins with the message: a throw naming a file URL (a config path, a fetched
  // resource) was reported at that URL, and a long message's cut text came back through it
  const error = await inboundFailure(t, [
    `    throw new Error('${'x'.repeat(600)} file:///etc/relay/tenant-7f3a/keys.json:7');`,
  ]);
  t.is(error.code, 'CORE_ERR_PLUGIN_THREW');
  t.regex(error.message, / \(at \/.*\/index\.js:5\)$/);
  t.false(error.message.includes('tenant-7f3a'));
});
