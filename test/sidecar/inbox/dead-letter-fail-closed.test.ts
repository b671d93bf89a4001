/**
 * A dead letter whose redaction throws, on a real SQLite file: the commit fails closed. The frame
 * is dead-lettered without its body, its path's query and its headers, acked, logged once with a
 * stable code and counted; a throw inside the commit transaction once rolled it back, so the frame
 * was never acked and failed again at each redelivery (a live one was lost). No body is known to
 * make the redaction throw any more (redact-form.test.ts), so the redaction is handed in.
 */
import test from 'ava';
import { Metrics } from '../../../core/metrics/metrics.js';
import { migrate } from '../../../core/store/database.js';
import { commitFrames } from '../../../sidecar/inbox/frame-commit.js';
import type { FrameJob, FrameOutcome } from '../../../sidecar/inbox/frame-outcome.js';
import { INBOX_MIGRATIONS } from '../../../sidecar/inbox/inbox-migrations.js';
import { InboxStore } from '../../../sidecar/inbox/inbox-store.js';
import { BODY_OMITTED } from '../../../sidecar/inbox/redact-frame.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { tempDatabase } from '../../helpers/temp-db.js';

const SECRET = 'dG9rZW4tdGhhdC1tdXN0LW5vdC1iZS1zdG9yZWQ';

test('a redaction that throws stores the frame without body, query and headers, acks it, and reports it once', async (t) => {
  const db = tempDatabase(t);
  migrate(db, 'inbox', INBOX_MIGRATIONS);
  const store = new InboxStore(db, { maxAttempts: 5 }, () => {
    throw new SyntaxError(`Unexpected token in JSON at "${SECRET}"`);
  });
  const sink = createLogSink();
  const metrics = new Metrics();
  const acks: string[] = [];
  const deps = {
    store,
    log: sink.logger,
    metrics,
    now: () => 1_000,
    ack: (bufferId: string) => acks.push(bufferId) > 0,
    onCommitted: () => {},
  };
  const frame = {
    type: 'passthrough_forward',
    bufferId: 'rf-1',
    forward: {
      platform: 'twilio',
      botId: 'AC1',
      method: 'POST',
      path: `/twilio/sms?token=${SECRET}`,
      headers: [['authorization', SECRET]],
      bodyB64: Buffer.from(`AuthToken=${SECRET}`).toString('base64'),
    },
  };
  const job: FrameJob = {
    seq: 1,
    type: frame.type,
    frame,
    bufferId: 'rf-1',
    key: 'buf:rf-1',
    receivedAt: 1_000,
  };
  const poison: FrameOutcome = { kind: 'poison', code: 'CORE_ERR_PLUGIN_REJECTED', message: 'rejected' };
  t.is(commitFrames(deps, [[job, poison]]), undefined);
  t.deepEqual(acks, ['rf-1']);
  const [letter] = store.deadLetters.list(10);
  const full = store.deadLetters.get(letter?.id ?? '') as { payload: unknown };
  t.deepEqual(full.payload, {
    frame: {
      type: 'passthrough_forward',
      bufferId: 'rf-1',
      forward: {
        ...frame.forward,
        path: '/twilio/sms',
        headers: [],
        bodyB64: '',
        bodyOmitted: BODY_OMITTED.redactionFailed,
      },
    },
  });
  t.like(sink.withCode('CORE_ERR_INBOX_REDACTION_FAILED'), [
    { bufferId: 'rf-1', deadLetterId: letter?.id, error: 'SyntaxError' },
  ]);
  t.is(sink.withCode('CORE_ERR_INBOX_REDACTION_FAILED').length, 1);
  t.is(sink.withCode('CORE_ERR_INBOX_COMMIT_FAILED').length, 0);
  t.is(await metrics.value('relay_errors_total', { code: 'CORE_ERR_INBOX_REDACTION_FAILED' }), 1);
  t.false(sink.text().includes(SECRET));
  t.false(JSON.stringify(db.prepare('SELECT * FROM inbox_dead_letters').all()).includes(SECRET));
  // its redelivery is a duplicate: acked, not dead-lettered again
  t.is(commitFrames(deps, [[{ ...job, seq: 2 }, poison]]), undefined);
  t.deepEqual(acks, ['rf-1', 'rf-1']);
  t.is(store.deadLetters.list(10).length, 1);
});
