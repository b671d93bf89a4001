/**
 * `relay-sidecar/testing`, imported by the package's own name as an author's test outside this
 * repository would: the plugin host loads the guide's example plugin from a manifest, and the dev
 * connector starts and stops (docs/plugins.md §8).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { repoRoot } from '../helpers/repo-root.js';
import { tempDir } from '../helpers/temp-dir.js';

test('relay-sidecar/testing: the plugin host and the dev connector, by the package name', async (t) => {
  const { PluginHost, DevConnector, Metrics, createLogger, validateConfig } = await import(
    'relay-sidecar/testing'
  );
  const dir = tempDir(t);
  const manifestPath = join(dir, 'plugins.json');
  const module = join(repoRoot(), 'dist', 'docs', 'examples', 'telegram-callback', 'index.js');
  writeFileSync(
    manifestPath,
    JSON.stringify({ apiVersion: 1, plugins: [{ name: 'telegram-callback', module, options: {} }] }),
  );
  const config = validateConfig({ dataDir: dir, agent: { mode: 'pull' } });
  const host = await PluginHost.load({
    manifestPath,
    config,
    log: createLogger({ level: 'silent' }),
    metrics: new Metrics(),
  });
  t.teardown(() => host.close());
  const update = {
    callback_query: {
      id: 'q1',
      from: { id: 1 },
      data: 'approve',
      message: { message_id: 7, chat: { id: 1, type: 'private' } },
    },
  };
  const outcome = await host.convertForward({
    platform: 'telegram-callback',
    botId: '',
    method: 'POST',
    path: '/tg',
    headers: [],
    bodyB64: Buffer.from(JSON.stringify(update)).toString('base64'),
  });
  t.like(outcome, { kind: 'events', plugin: 'telegram-callback' });

  const connector = await DevConnector.start();
  t.teardown(() => connector.close());
  t.regex(connector.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});
