/**
 * What a graceful stop does to work in progress, on a real `relay-sidecar run` child: a push
 * delivery in flight completes (and its response actions go out), a pending outbound call gets
 * `relay transport closed`, and nothing committed to the inbox is lost across a restart.
 */
import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { DISCORD_CHANNEL, discordMessage } from '../../../sidecar/demo/samples.js';
import { type AgentReply, LoopbackAgent, startAgent } from '../../helpers/loopback-agent.js';
import { until } from '../../helpers/until.js';
import { api, type Relay, type RunChildOptions, runChild, startRelay } from './run-fixture.js';

const EXIT_MARGIN_MS = 5_000;

/** A push agent whose token matches the child's; closed at teardown. */
async function agentWithToken(t: ExecutionContext): Promise<{ agent: LoopbackAgent; token: string }> {
  const token = randomBytes(24).toString('hex');
  const agent = await startAgent(t, { token });
  return { agent, token };
}

/** Run a push-mode child against `relay` delivering to `agent`. */
function pushChild(
  t: ExecutionContext,
  relay: Relay,
  agent: LoopbackAgent,
  token: string,
  opts: RunChildOptions = {},
) {
  return runChild(t, relay, { ...opts, agentUrl: agent.url, env: { SIDECAR_API_TOKEN: token, ...opts.env } });
}

/** A reply the test releases when it wants to. */
function heldReply(): { script: () => Promise<AgentReply>; release: (r: AgentReply) => void } {
  let release!: (r: AgentReply) => void;
  const held = new Promise<AgentReply>((ok) => {
    release = ok;
  });
  return { script: () => held, release };
}

test.serial(
  'a push delivery in flight at SIGTERM completes, its response actions go out, then exit 0',
  async (t) => {
    const relay = await startRelay(t);
    const { agent, token } = await agentWithToken(t);
    const held = heldReply();
    agent.setScript(held.script);
    const run = await pushChild(t, relay, agent, token);
    relay.connector.send(discordMessage('slow one', 'm-slow'));
    await agent.waitFor(1);

    run.child.proc.kill('SIGTERM');
    await run.child.waitLog((l) => l.msg === 'shutdown started');
    await relay.connector.waitFor((f) => f.dir === 'out' && f.frame.type === 'going_idle_ack');
    held.release({ actions: [{ op: 'send', chat_id: DISCORD_CHANNEL, content: 'finished while draining' }] });
    const sent = await relay.connector.waitFor(
      (f) =>
        f.dir === 'in' &&
        f.frame.type === 'outbound' &&
        (f.frame.action as { content?: unknown } | undefined)?.content === 'finished while draining',
    );
    t.is((await run.child.waitExit(2_000 + EXIT_MARGIN_MS)).code, 0);
    t.truthy(
      relay.connector.frames.find(
        (f) => f.frame.type === 'outbound_result' && f.frame.requestId === sent.frame.requestId,
      ),
      'the action was answered before the socket closed',
    );

    // the delivery was recorded as done: a restart on the same data dir has nothing pending
    const again = await pushChild(t, relay, agent, token, { dataDir: run.dataDir });
    const status = await api(again, '/v1/status');
    t.is(status.body.inbox?.pending, 0);
    t.is(status.body.inbox?.delivered, 1);
    t.is(agent.deliveries.length, 1);
  },
);

test.serial(
  'a pending outbound call (connector never answers) gets `relay transport closed`, ambiguous; exit 0',
  async (t) => {
    const relay = await startRelay(t);
    relay.connector.setRespond(() => undefined);
    const run = await runChild(t, relay);
    const call = api(run, '/v1/actions', {
      method: 'POST',
      body: { op: 'send', chat_id: 'c-1', content: 'never answered' },
    });
    await relay.connector.waitFor((f) => f.dir === 'in' && f.frame.type === 'outbound');
    run.child.proc.kill('SIGTERM');
    const answer = await call;
    t.is(answer.status, 200);
    // the frame was written: the agent must not take the failure as "not sent" and post it again
    t.deepEqual(answer.body.result, { success: false, error: 'relay transport closed', ambiguous: true });
    t.is((await run.child.waitExit(2_000 + EXIT_MARGIN_MS)).code, 0);
  },
);

test.serial(
  'a delivery still in flight when the budget runs out is delivered again after a restart',
  async (t) => {
    const relay = await startRelay(t);
    const { agent, token } = await agentWithToken(t);
    agent.setScript(() => ({ hang: true }));
    // 2 s: the hung delivery uses up its step's share, and the later steps (socket, API, inbox,
    // pool) still have room on a busy machine (at 1 s the inbox close was cut off too, under load)
    const budgetMs = 2_000;
    const run = await pushChild(t, relay, agent, token, { config: { shutdown: { budgetMs } } });
    relay.connector.send(discordMessage('never answered before the stop', 'm-hang'));
    await agent.waitFor(1);
    run.child.proc.kill('SIGTERM');
    t.is((await run.child.waitExit(budgetMs + EXIT_MARGIN_MS)).code, 0);
    // was: only "shutdown complete" after the whole wait, no word of the delivery left unfinished
    // (on a loaded machine a later step, e.g. the pool's, may run out of the budget as well)
    const cut = run.child.logs.filter(
      (l) => l.code === 'CORE_ERR_SHUTDOWN_BUDGET_EXCEEDED' && l.step === 'deliveries',
    );
    t.is(cut.length, 1, JSON.stringify(run.child.logs.filter((l) => Number(l.level) >= 40)));
    t.like(cut[0], { step: 'deliveries', inFlight: 1, component: 'shutdown' });

    agent.setScript(() => ({}));
    await pushChild(t, relay, agent, token, { dataDir: run.dataDir });
    await agent.waitFor(2);
    const [first, second] = agent.deliveries;
    t.is(second?.id, first?.id, 'the same delivery, not a new event');
    t.is(second?.envelope?.event?.text, 'never answered before the stop');
  },
);

test.serial(
  'an event committed (and acked to the connector) but not yet delivered is delivered after a restart',
  async (t) => {
    const relay = await startRelay(t);
    // pull mode with nobody pulling: the event stays in the inbox
    const run = await runChild(t, relay);
    const bufferId = relay.connector.sendBuffered(discordMessage('kept across restarts', 'm-kept'));
    await relay.connector.waitFor(
      (f) => f.dir === 'in' && f.frame.type === 'inbound_ack' && f.frame.bufferId === bufferId,
    );
    t.deepEqual(relay.connector.pendingBuffered(), [], 'the connector forgot it: only the inbox has it now');
    run.child.proc.kill('SIGTERM');
    t.is((await run.child.waitExit(2_000 + EXIT_MARGIN_MS)).code, 0);

    const { agent, token } = await agentWithToken(t);
    await pushChild(t, relay, agent, token, { dataDir: run.dataDir });
    await agent.waitFor(1);
    t.is(agent.deliveries[0]?.envelope?.event?.text, 'kept across restarts');
    t.true(agent.deliveries[0]?.signatureValid);
  },
);

test.serial(
  'live frames that keep arriving after a missed going_idle_ack are committed before exit, and delivered after a restart',
  async (t) => {
    const relay = await startRelay(t, { answerGoingIdle: false });
    const { agent, token } = await agentWithToken(t);
    const held = heldReply();
    agent.setScript(held.script);
    const run = await pushChild(t, relay, agent, token, { config: { shutdown: { budgetMs: 4_000 } } });
    relay.connector.send(discordMessage('in flight at the stop', 'm-flight'));
    await agent.waitFor(1);

    run.child.proc.kill('SIGTERM');
    await run.child.waitLog((l) => l.code === 'CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT');
    // the connector never acked, so it still sends live frames, which it never redelivers
    const late = ['late 1', 'late 2', 'late 3'];
    for (const [i, text] of late.entries()) relay.connector.send(discordMessage(text, `m-late-${i}`));
    // committed while the delivery in flight holds the drain (the API stays up until the end)
    await until(
      async () => (await api(run, '/v1/status')).body.inbox?.pending === 1 + late.length,
      3_000,
      'the late frames committed',
      50,
    );
    held.release({});
    t.is((await run.child.waitExit(4_000 + EXIT_MARGIN_MS)).code, 0);

    agent.setScript(() => ({}));
    await pushChild(t, relay, agent, token, { dataDir: run.dataDir });
    await agent.waitFor(1 + late.length);
    t.deepEqual(
      agent.deliveries.slice(1).map((d) => d.envelope?.event?.text),
      late,
    );
  },
);
