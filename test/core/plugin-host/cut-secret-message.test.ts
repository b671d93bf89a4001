/**
 * A hook's thrown message is cut at 500 characters in the worker and then told where it threw
 * (`… (at <file>:<line>:<col>)`); a credential of the task's input that the cut falls inside must
 * not leave its start in the failure the log, the dead letter and the caller get (real pool, real
 * plugin module).
 */
import test from 'ava';
import { pluginModule } from '../../helpers/plugin-module.js';
import { forward, startFixtureHost } from './fixture-host.js';

/** A key of a webhook path and an interaction token: mixed case and digits, 44 characters. */
const KEY = 'Xy9kLmN0pQrStUv1WxYz2AbCdEfGh3IjKlMn4OpQrStU';
const TOKEN = 'aW50ZXJhY3Rpb246MTIzNDU2Nzg5OkxFQUtFRFRPS0VO';

/** A converter that throws a long message ending in the forward's path key or body token. */
const LONG = `passthrough: { platforms: ['long'], convert(f) {
  const hook = f.path.slice(f.path.lastIndexOf('/') + 1);
  const token = JSON.parse(f.body.toString()).token;
  throw new Error('x'.repeat(470) + ' ' + (f.headers.some((h) => h[0] === 'x-token') ? token : hook) + ' refused');
} }`;

test('a credential the 500-character cut falls inside leaves no start in the failure', async (t) => {
  const module = pluginModule(t, 'long', '', LONG);
  const { host, sink } = await startFixtureHost(t, [{ name: 'long', module, timeoutMs: 10_000 }]);
  const body = { token: TOKEN };
  const outcomes = [
    await host.convertForward({ ...forward('long', body), path: `/hooks/${KEY}` }),
    await host.convertForward({
      ...forward('long', body),
      headers: [
        ['content-type', 'application/json'],
        ['x-token', '1'],
      ],
    }),
  ];
  t.deepEqual(
    outcomes.map((o) => o.kind),
    ['failed', 'failed'],
  );
  // the message is cut within the value: its first 20 characters are what the cut left of it
  const texts = [sink.text(), ...outcomes.map((o) => JSON.stringify(o))];
  const leaks = texts.flatMap((text, i) =>
    [KEY.slice(0, 20), TOKEN.slice(0, 20)].filter((start) => text.includes(start)).map((s) => `${s} in ${i}`),
  );
  t.deepEqual(leaks, []);
});
