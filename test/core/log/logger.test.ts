/**
 * The root logger's redaction, the second line of defence behind "never log a secret": a value
 * under a secret key is replaced by `[redacted]` at the top level and one and two levels down.
 */
import test from 'ava';
import { createLogSink } from '../../helpers/log-sink.js';

const SECRET = 'sekrit-value-0123456789';

/** Where a secret may end up in a log line's fields, by the shapes the code logs. */
const SHAPES: Record<string, unknown>[] = [
  { token: SECRET },
  { secret: SECRET },
  { apiToken: SECRET },
  { authorization: `Bearer ${SECRET}` },
  { Authorization: `Bearer ${SECRET}` },
  { headers: { authorization: `Bearer ${SECRET}` } },
  { req: { headers: { authorization: `Bearer ${SECRET}` } } },
  { relay: { secret: SECRET } },
  { relay: { identityToken: SECRET } },
  { relay: { enrollToken: SECRET } },
  { relay: { deliveryKey: SECRET } },
  { api: { token: SECRET } },
  { config: { relay: { secret: SECRET } } },
  { config: { api: { token: SECRET } } },
  { config: { agent: { apiToken: SECRET } } },
  { config: { relay: { identityToken: SECRET } } },
  { config: { relay: { enrollToken: SECRET } } },
  { config: { relay: { deliveryKey: SECRET } } },
  // at the top level too (they were redacted only one level down)
  { identityToken: SECRET },
  { enrollToken: SECRET },
  { enrollmentToken: SECRET },
  { deliveryKey: SECRET },
  // what a plugin's hook may log
  { interaction_token: SECRET },
  { fields: { interaction_token: SECRET } },
];

for (const fields of SHAPES) {
  test(`redacted: ${JSON.stringify(fields).replace(SECRET, '…')}`, (t) => {
    const sink = createLogSink();
    sink.logger.info({ ...fields, kept: 'visible' }, 'line');
    t.false(sink.text().includes(SECRET), sink.text());
    t.true(sink.text().includes('[redacted]'));
    t.is(sink.lines[0]?.kept, 'visible');
  });
}
