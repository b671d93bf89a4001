/**
 * `relay.commandManifest` is checked against the hello's own schema when the config loads: a
 * manifest the hello would refuse was accepted, then left off the discord hello at every dial with
 * a CORE_ERR_CONFIG_INVALID log line while the sidecar ran on, so Discord never saw the commands.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { loadConfig } from '../../../core/config/load.js';
import { RelayError } from '../../../core/errors.js';
import { helloFrames } from '../../../core/transport/hello.js';

function configFile(t: ExecutionContext, relay: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs-manifest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sidecar.json');
  writeFileSync(file, JSON.stringify({ relay }));
  return file;
}

test('a command manifest the discord hello would refuse refuses the start, naming the entry', (t) => {
  const cases: [unknown[], RegExp][] = [
    [[{ name: 'ask' }], /relay\.commandManifest\.0\.description/],
    [
      [
        { name: 'ask', description: 'Ask' },
        { name: '', description: 'x' },
      ],
      /relay\.commandManifest\.1\.name/,
    ],
    [[{ name: 'ask', description: 'Ask', options: 'none' }], /relay\.commandManifest\.0\.options/],
  ];
  for (const [commandManifest, key] of cases) {
    const file = configFile(t, { commandManifest });
    const err = t.throws(() => loadConfig({ env: {}, file }), { instanceOf: RelayError });
    t.is(err?.code, 'CORE_ERR_CONFIG_INVALID');
    t.regex(err?.message ?? '', key);
  }
});

test('a valid command manifest loads as written, unknown keys kept, and rides the discord hello whole', (t) => {
  const manifest = [
    {
      name: 'ask',
      description: 'Ask the agent',
      options: [{ name: 'q', type: 3 }],
      default_member_permissions: '0',
    },
  ];
  const file = configFile(t, { commandManifest: manifest });
  const config = loadConfig({ env: {}, file });
  t.deepEqual(config.relay.commandManifest, manifest);
  const { frames, manifestProblem } = helloFrames(
    [{ platform: 'discord', botId: 'd1' }],
    config.relay.commandManifest,
  );
  t.is(manifestProblem, undefined);
  t.deepEqual(frames[0]?.command_manifest, manifest);
});
