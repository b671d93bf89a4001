/**
 * `relay-sidecar run` as a real child process when the connector revokes it (4401 twice after handshakes):
 * exit 3 with an actionable message, or, with relay.stayUpWhenRevoked, staying up with /readyz saying
 * revoked until SIGTERM stops it.
 */
import test from 'ava';
import { api, runChild, startRelay, waitReady } from '../lifecycle/run-fixture.js';

/** Close with 4401 `revoked` after the handshake, twice (the second on the immediate redial). */
async function revokeTwice(relay: Awaited<ReturnType<typeof startRelay>>): Promise<void> {
  const first = await relay.connector.waitForConnection();
  relay.connector.close4401('revoked');
  await waitReady(relay.connector, first);
  relay.connector.close4401('revoked');
}

test.serial(
  'revocation (4401 twice after handshakes, not expired) exits 3 with an actionable message',
  async (t) => {
    const relay = await startRelay(t);
    const run = await runChild(t, relay);
    await revokeTwice(relay);
    t.is((await run.child.waitExit()).code, 3);
    t.regex(run.child.stderr(), /revoked/);
    t.regex(run.child.stderr(), /relay-sidecar enroll/);
    t.truthy(run.child.logs.find((l) => l.code === 'CORE_ERR_TRANSPORT_REVOKED'));
    t.is(relay.connector.totalConnections(), 2, 'no dial after the revocation');
  },
);

test.serial(
  'with relay.stayUpWhenRevoked the process stays up, /readyz says revoked, and SIGTERM still stops it',
  async (t) => {
    const relay = await startRelay(t);
    const run = await runChild(t, relay, { config: { relay: { stayUpWhenRevoked: true } } });
    await revokeTwice(relay);
    await run.child.waitStderr(/revoked.*staying up/);
    const ready = await api(run, '/readyz');
    t.is(ready.status, 503);
    t.is(ready.body.state, 'revoked');
    const action = await api(run, '/v1/actions', {
      method: 'POST',
      body: { op: 'send', chat_id: 'c1', content: 'after revocation' },
    });
    t.is(action.body.error?.code, 'relay_revoked');
    t.false(run.child.exited());
    t.falsy(run.child.logs.find((l) => l.msg === 'shutdown started'));

    run.child.proc.kill('SIGTERM');
    t.is((await run.child.waitExit()).code, 0);
    t.is(relay.connector.totalConnections(), 2);
  },
);
