/**
 * `run`'s exit after the drain counts the drain's time (its pause meter), never the wall clock: a
 * step of the clock during the drain moved the exit (`deadline - Date.now()`), and a plain timer
 * counted a freeze of the process, exiting at the resume.
 */
import test from 'ava';
import type { PauseMeter } from '../../../core/di/pause-meter.js';
import { processHooks, type RunHooks, runRun } from '../../../sidecar/cli/run-command.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { until } from '../../helpers/until.js';
import { runEnv, startRelay, waitReady } from '../lifecycle/run-fixture.js';

/** The shutdown budget of the run, ms. */
const BUDGET_MS = 2_000;

test.serial(
  "a wall clock stepped back an hour during the drain does not stretch the exit past the drain's budget",
  async (t) => {
    const relay = await startRelay(t);
    const env = runEnv(t, relay, { config: { shutdown: { budgetMs: BUDGET_MS } } });
    let signal: ((name: string) => void) | undefined;
    let drained: { code: number; leftMs: number; meter?: PauseMeter } | undefined;
    const hooks: RunHooks = {
      onSignal: (listener) => {
        signal = listener;
        return () => undefined;
      },
      forceExit: (code) => t.fail(`forced exit ${code}`),
      logger: () => createLogSink().logger,
      drained: (code, leftMs, meter) => {
        drained = { code, leftMs, ...(meter ? { meter } : {}) };
      },
    };
    const io = {
      stdout: () => undefined,
      stderr: () => undefined,
      env,
      cwd: process.cwd(),
      nowMs: () => Date.now(),
      setExitCode: () => undefined,
    };
    const realNow = Date.now;
    t.teardown(() => {
      Date.now = realNow;
      drained?.meter?.stop();
    });
    const running = runRun({}, io, hooks);
    await waitReady(relay.connector, 0);
    await until(() => signal !== undefined, 10_000, 'the signal listener');
    signal?.('SIGTERM');
    // the drain has taken its deadline; the clock steps back (NTP, an operator) while it runs
    Date.now = () => realNow() - 3_600_000;
    t.is(await running, 0);
    Date.now = realNow;
    // was: leftMs = the budget plus the hour (the exit's bound stretched by the step)
    t.true(drained !== undefined && drained.leftMs <= BUDGET_MS, `leftMs ${drained?.leftMs}`);
    t.truthy(drained?.meter, "the drain's meter is handed on for the exit's bound");
  },
);

test.serial(
  "the exit after the drain waits out its time on the drain's meter: a freeze it leaves out does not end it",
  async (t) => {
    const exits: number[] = [];
    const realExit = process.exit;
    process.exit = ((code?: number) => {
      exits.push(code ?? 0);
    }) as typeof process.exit;
    t.teardown(() => {
      process.exit = realExit;
    });
    // a meter whose time stands still: the process frozen, as far as its own work goes
    let now = 0;
    const meter: PauseMeter = { now: () => now, paused: () => 0, stop: () => undefined };
    processHooks().drained?.(7, 100, meter);
    await new Promise((resolve) => setTimeout(resolve, 400));
    // was: exited at 100 ms of the wall clock, the freeze counted as the drain's time
    t.deepEqual(exits, []);
    now += 100;
    await until(() => exits.length > 0, 5_000, 'the exit');
    t.deepEqual(exits, [7]);
  },
);
