/**
 * A dead-lettered forward's path without the key a webhook URL holds in a path segment
 * (Discord's `/webhooks/<id>/<token>`, a provider's `/hooks/<secret>`): the same rule as the log
 * side's (secret-matcher.ts), applied to what the dead letter stores (redact-frame.ts).
 */
import test from 'ava';
import { redactFrame, redactFrameWhole, redactPath } from '../../../sidecar/inbox/redact-frame.js';

const TOKEN = 'Xy9_kLmN0pQr-StUv1WxYz2AbCdEfGh3IjKlMn4OpQrStUvWxYz5AbCdEfGh6IjKlMn7';
/** A base64 key percent-encoded, as a URL carries it. */
const ENCODED = encodeURIComponent('aW50ZXJhY3Rpb246+MTIz/NDU2Nzg5OkxFQUtFRFRPS0VO==');

test("a key-like path segment is stored as [redacted]; ids, words and the query's other fields stay", (t) => {
  t.is(redactPath(`/webhooks/1184393483943/${TOKEN}`), '/webhooks/1184393483943/[redacted]');
  t.is(redactPath(`/hooks/${ENCODED}`), '/hooks/[redacted]');
  t.is(redactPath(`/hooks/${TOKEN};v=1`), '/hooks/[redacted];v=1');
  t.is(redactPath(`/hooks/${TOKEN}:run?a=1`), '/hooks/[redacted]:run?a=1');
  // both rules on one path: the segment's and the credential query field's
  t.is(
    redactPath(`/hooks/${TOKEN}/sms?From=%2B1555&token=abc&cb=/x/${TOKEN}`),
    '/hooks/[redacted]/sms?From=%2B1555&token=%5Bredacted%5D&cb=/x/[redacted]',
  );
  // a key after a delimiter within its segment: Telegram's `/<bot id>:<token>`, a `;key=` param
  t.is(redactPath('/123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw'), '/123456789:[redacted]');
  t.is(redactPath(`/twilio/sms;key=${TOKEN}`), '/twilio/sms;[redacted]');
  // a key-like query value under a name that is no credential's (Azure Functions' `?code=`)
  t.is(redactPath(`/api/HttpTrigger1?code=${TOKEN}&a=1`), '/api/HttpTrigger1?code=[redacted]&a=1');
  for (const path of [
    '/twilio/sms',
    '/interactions/discord/987654321098765432',
    '/caf%C3%A9-au-lait-recipes',
  ])
    t.is(redactPath(path), path);
});

test('a very long path is redacted in one pass, every key in it', (t) => {
  const short = '/Ab1Cd2Ef3Gh4Ij5Kl6M'.repeat(200_000);
  const out = redactPath(`${short}/${TOKEN}?a=1`);
  // compared whole, shown by its end: a failure must not print megabytes
  t.true(out === `${short}/[redacted]?a=1`, out.slice(-60));
  // one 8 MiB segment (a backtracking pattern's stack overflowed on it), ended by a query
  const long = `/${'Ab1'.repeat(2_800_000)}`;
  t.is(redactPath(`${long}?a=1`), '/[redacted]?a=1');
});

test('a stored forward whose path lost a key says so; one without keeps its path byte for byte', (t) => {
  const forward = {
    platform: 'hooks',
    botId: 'b',
    method: 'POST',
    path: `/hooks/${TOKEN}`,
    headers: [],
    bodyB64: '',
  };
  const stored = redactFrame({ type: 'passthrough_forward', forward }) as {
    forward: Record<string, unknown>;
  };
  t.is(stored.forward.path, '/hooks/[redacted]');
  // said beside the path, as `bodyOmitted` is beside the body: `dead-letters show` prints it
  t.regex(String(stored.forward.pathRedacted), /\[redacted\].*replay/);
  // the letter replayed and dead-lettered again: the path it ran with is still marked
  const again = redactFrame({ type: 'passthrough_forward', forward: stored.forward }) as {
    forward: Record<string, unknown>;
  };
  t.like(again.forward, { path: '/hooks/[redacted]', pathRedacted: stored.forward.pathRedacted });
  const plain = redactFrame({
    type: 'passthrough_forward',
    forward: { ...forward, path: '/twilio/sms' },
  }) as {
    forward: Record<string, unknown>;
  };
  t.is(plain.forward.path, '/twilio/sms');
  t.false('pathRedacted' in plain.forward);
  // a key after a delimiter within its segment (Telegram's `/<bot id>:<token>`) is marked too
  const bot = redactFrame({
    type: 'passthrough_forward',
    forward: { ...forward, path: '/123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw' },
  }) as { forward: Record<string, unknown> };
  t.like(bot.forward, { path: '/123456789:[redacted]', pathRedacted: stored.forward.pathRedacted });
  const botAgain = redactFrame({ type: 'passthrough_forward', forward: bot.forward }) as {
    forward: Record<string, unknown>;
  };
  t.is(botAgain.forward.pathRedacted, stored.forward.pathRedacted);
  // the fail-closed copy of a frame whose redaction threw applies the rule too
  const whole = redactFrameWhole({
    type: 'passthrough_forward',
    forward: { ...forward, path: `/h/${TOKEN}?x=1` },
  });
  t.like(whole, { forward: { path: '/h/[redacted]', pathRedacted: stored.forward.pathRedacted } });
});

test("the connector's own marks are not stored as the sidecar's: a letter it marked stays replayable", (t) => {
  // a forward that came with `bodyOmitted` kept it, and its letter was refused replay as one
  // stored without its body; `pathRedacted` said a key was taken out of a path that held none
  const stored = redactFrame({
    type: 'passthrough_forward',
    forward: {
      platform: 'hooks',
      botId: 'b',
      method: 'POST',
      path: '/twilio/sms',
      headers: [],
      bodyB64: Buffer.from('{"a":1}').toString('base64'),
      bodyOmitted: 'said by the connector',
      pathRedacted: 'said by the connector',
    },
  }) as { forward: Record<string, unknown> };
  t.false('bodyOmitted' in stored.forward);
  t.false('pathRedacted' in stored.forward);
  t.is(stored.forward.path, '/twilio/sms');
  t.is(stored.forward.bodyB64, Buffer.from('{"a":1}').toString('base64'));
});
