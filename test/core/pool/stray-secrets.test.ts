/**
 * A stray error never carries a credential a plugin stashed from an earlier task: a converter that
 * keeps an interaction token and throws it later from a timer, outside any task, had the token in
 * the `plugin stray error` line (the main thread's redaction sees replies only). The worker
 * remembers its recent forwards (recent-secrets.ts) and redacts the reason with their credentials
 * and its plugins' options' (real module file, real check thread, piscina pool and SQLite store).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { pluginModule } from '../../helpers/plugin-module.js';
import { forward, startFixtureHost } from '../plugin-host/fixture-host.js';

const ZOD = pathToFileURL(createRequire(import.meta.url).resolve('zod')).href;
const STRAY = 'CORE_ERR_PLUGIN_STRAY_ERROR';
/** A base64 token: its '+', '/' and '=' percent-encoded in a URL path. */
const TOKEN = 'aW50ZXJhY3Rpb246+MTIz/NDU2Nzg5OlNUQVNIRUQ==';
const API_KEY = 'sk-stash-option-key-0123456789';

/** A converter that stashes the interaction token and throws it from a timer once its task is over. */
const STASHER = `options: z.strictObject({ apiKey: z.string() }),
  passthrough: { platforms: ['stasher'], convert(f, ctx) {
    const token = JSON.parse(f.body.toString()).token;
    setTimeout(() => {
      throw new Error('interaction ' + token + ' expired: POST /api/webhooks/1/' +
        encodeURIComponent(token) + '/messages?ref=' + encodeURIComponent(token) + ' with key ' +
        ctx.options.apiKey);
    }, 50);
    return { events: [] };
  } }`;

test('a token a plugin stashed and throws later from a timer is redacted in the stray error line', async (t) => {
  const module = pluginModule(t, 'stasher', `import { z } from ${JSON.stringify(ZOD)};`, STASHER);
  const { host, sink } = await startFixtureHost(t, [
    { name: 'stasher', module, options: { apiKey: API_KEY } },
  ]);
  const outcome = await host.convertForward(forward('stasher', { type: 2, id: '1', token: TOKEN }));
  t.is(outcome.kind, 'rejected');
  const line = await sink.waitFor((l) => l.code === STRAY, 10_000);
  t.like(line, { plugin: 'stasher', origin: 'exception' });
  // was: 'Error: interaction aW50ZXJh… expired: POST /api/webhooks/1/aW50…%2B… with key sk-stash…'
  t.is(
    line.reason,
    'Error: interaction [redacted] expired: POST /api/webhooks/1/[redacted]/messages?ref=[redacted] with key [redacted]',
  );
  for (const needle of [TOKEN.slice(0, 10), encodeURIComponent(TOKEN).slice(-12), API_KEY]) {
    t.false(sink.text().includes(needle), needle);
  }
});
