/**
 * The agent API during a graceful stop: a call that arrives while the shutdown closes the inbox
 * (and its store) must not reach a handler that reads or writes the closed database. Found by
 * the chaos soak: a pull agent's `POST /v1/events/{id}/ack` and a `GET /v1/status` in that window
 * got 500 internal_error, logged at error level as CORE_ERR_API_HANDLER_FAILED ("a bug").
 */
import test from 'ava';
import { secretOf, startConnector, startInProcess } from '../../e2e/e2e-harness.js';

test('a call in the window where the inbox closes is never answered 500, nothing is logged as a handler failure', async (t) => {
  const secret = secretOf('relay-secret');
  const connector = await startConnector(t, secret);
  const sc = await startInProcess(t, { connector, secret });
  const answers: string[] = [];
  const inbox = sc.sidecar.inbox;
  const realClose = inbox.close.bind(inbox);
  // the moment of the shutdown this test is about: right after the store closed
  inbox.close = async (budgetMs?: number) => {
    await realClose(budgetMs);
    for (const [path, method] of [
      ['/v1/status', 'GET'],
      ['/v1/events/dlv_00000000000000000000000000/ack', 'POST'],
      ['/v1/dead-letters', 'GET'],
    ] as const) {
      try {
        const res = await sc.api(path, { method, signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        answers.push(`${path} ${res.status}`);
      } catch {
        answers.push(`${path} not answered`); // the API no longer accepts calls: fine
      }
    }
  };
  await sc.sidecar.stop();
  t.is(answers.length, 3, 'the calls were made');
  t.deepEqual(
    answers.filter((a) => a.endsWith(' 500')),
    [],
    `no 500 answers (${answers.join('; ')})`,
  );
  t.deepEqual(sc.sink.withCode('CORE_ERR_API_HANDLER_FAILED'), []);
});
