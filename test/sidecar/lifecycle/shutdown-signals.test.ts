/**
 * SIGTERM / SIGINT on a real `relay-sidecar run` child: going_idle and its ack, a clean socket
 * close, exit 0 — bounded by `shutdown.budgetMs` even when the connector never acks or the
 * network is partitioned — and a second signal forcing exit 130.
 *
 * "Within the budget" is checked by making every unbounded wait far longer than the budget
 * (going_idle timeout 60 s) and by the sidecar's own `shutdown complete` figure, not by timing.
 */
import test, { type ExecutionContext } from 'ava';
import { startFreezableProxy } from './freezable-proxy.js';
import { runChild, startRelay } from './run-fixture.js';
import type { SidecarChild } from './sidecar-child.js';

/** Margin for a process to be scheduled and exit after its drain, ms (not a performance goal). */
const EXIT_MARGIN_MS = 5_000;

/** Timer granularity a drain may overshoot its deadline by, ms (far below the 1 s socket grace). */
const TIMER_SLACK_MS = 250;

/** The child's own `shutdown complete` figure stayed within the budget. */
function withinBudget(t: ExecutionContext, child: SidecarChild, budgetMs: number): void {
  const line = child.logs.find((l) => l.msg === 'shutdown complete');
  t.truthy(line, 'the shutdown completed (not forced)');
  t.true(Number(line?.ms) <= budgetMs + TIMER_SLACK_MS, `shutdown took ${String(line?.ms)} ms`);
}

/** The child closed its socket itself with a completed closing handshake. */
function closedCleanly(t: ExecutionContext, child: SidecarChild): void {
  const close = child.logs.find((l) => l.msg === 'relay socket closed' && l.cause === 'stopped');
  t.is(close?.closeCode as unknown, 1000, 'closing handshake completed (1000, not 1006)');
}

const clean = test.macro(async (t, signal: NodeJS.Signals) => {
  const relay = await startRelay(t);
  const budgetMs = 2_000;
  const run = await runChild(t, relay, { config: { shutdown: { budgetMs } } });
  run.child.proc.kill(signal);
  const exit = await run.child.waitExit(budgetMs + EXIT_MARGIN_MS);
  t.deepEqual(exit, { code: 0, signal: null });
  t.regex(run.child.stderr(), new RegExp(`run: ${signal}: draining`));

  const frames = relay.connector.frames.map((f) => `${f.dir}:${f.frame.type}`);
  t.deepEqual(frames.slice(-2), ['in:going_idle', 'out:going_idle_ack'], 'going_idle, acked, then nothing');
  t.truthy(run.child.logs.find((l) => l.msg === 'relay state changed' && l.state === 'idle'));
  closedCleanly(t, run.child);
  withinBudget(t, run.child, budgetMs);
  t.is(relay.connector.connectionCount(), 0);
  t.is(run.child.logs.filter((l) => typeof l.code === 'string').length, 0, 'no error was reported');
});

test.serial('SIGTERM: going_idle, ack, clean close, exit 0 within the budget', clean, 'SIGTERM');
test.serial('SIGINT: the same drain as SIGTERM', clean, 'SIGINT');

test.serial('a connector that never acks going_idle: still a clean exit 0 within the budget', async (t) => {
  const relay = await startRelay(t, { answerGoingIdle: false });
  const budgetMs = 1_500;
  const run = await runChild(t, relay, {
    config: { shutdown: { budgetMs }, relay: { shutdownGoingIdleTimeoutMs: 60_000 } },
  });
  run.child.proc.kill('SIGTERM');
  t.is((await run.child.waitExit(budgetMs + EXIT_MARGIN_MS)).code, 0);
  t.truthy(relay.connector.frames.find((f) => f.dir === 'in' && f.frame.type === 'going_idle'));
  t.truthy(run.child.logs.find((l) => l.code === 'CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT'));
  closedCleanly(t, run.child);
  withinBudget(t, run.child, budgetMs);
});

test.serial(
  'a partitioned network (no ack, no answer to the close frame): still exit 0 within the budget',
  async (t) => {
    const relay = await startRelay(t);
    const proxy = await startFreezableProxy(t, relay.connector.port);
    const budgetMs = 1_500;
    const run = await runChild(t, relay, {
      env: { GATEWAY_RELAY_URL: `http://127.0.0.1:${proxy.port}` },
      config: { shutdown: { budgetMs }, relay: { shutdownGoingIdleTimeoutMs: 60_000 } },
    });
    proxy.freeze();
    run.child.proc.kill('SIGTERM');
    t.is((await run.child.waitExit(budgetMs + EXIT_MARGIN_MS)).code, 0);
    t.truthy(run.child.logs.find((l) => l.code === 'CORE_ERR_TRANSPORT_GOING_IDLE_TIMEOUT'));
    withinBudget(t, run.child, budgetMs);
    t.false(run.child.stderr().includes('budget exceeded'));
  },
);

test.serial('a second signal during the drain forces exit 130 at once', async (t) => {
  // a drain that would take the whole (long) budget: going_idle is never acked
  const relay = await startRelay(t, { answerGoingIdle: false });
  const run = await runChild(t, relay, {
    config: { shutdown: { budgetMs: 60_000 }, relay: { shutdownGoingIdleTimeoutMs: 60_000 } },
  });
  run.child.proc.kill('SIGTERM');
  await run.child.waitStderr(/run: SIGTERM: draining/);
  await relay.connector.waitFor((f) => f.dir === 'in' && f.frame.type === 'going_idle');
  run.child.proc.kill('SIGINT');
  t.deepEqual(await run.child.waitExit(EXIT_MARGIN_MS), { code: 130, signal: null });
  t.regex(run.child.stderr(), /run: second SIGINT: exiting now/);
  t.falsy(run.child.logs.find((l) => l.msg === 'shutdown complete'));
});
