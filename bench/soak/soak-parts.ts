/**
 * The wiring of one soak run: the temp dir and the run's own secrets, the chaos connector, the
 * agent (push or pull) and the parts that act on them. Only the connector and the push agent
 * run once this is done; the sidecar starts with the run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentActions } from './agent-actions.js';
import { BadInput } from './bad-input.js';
import { ChaosConnector } from './chaos-connector.js';
import { DeadLetterReplays } from './dead-letter-replays.js';
import { EventGenerator } from './event-generator.js';
import { FaultSchedule } from './fault-schedule.js';
import { SidecarLives, sidecarEnv } from './sidecar-lives.js';
import { type AgentLedger, PullAgent, PushAgent } from './soak-agents.js';
import { type SoakOptions, SoakRun } from './soak-run.js';

/** The parts of one run, wired. */
export interface SoakParts {
  readonly run: SoakRun;
  /** The run's temp dir (removed at the end) and the sidecar's data dir in it. */
  readonly dir: string;
  readonly dataDir: string;
  /** The relay secret and API token: fresh per run, and checked absent from every log. */
  readonly secret: string;
  readonly token: string;
  readonly connector: ChaosConnector;
  readonly sidecar: SidecarLives;
  readonly events: EventGenerator;
  readonly actions: AgentActions;
  readonly replays: DeadLetterReplays;
  readonly schedule: FaultSchedule;
  /** The agent's ledger (of the push or the pull agent). */
  readonly ledger: AgentLedger;
  readonly push: PushAgent | undefined;
  readonly pull: PullAgent | undefined;
}

/**
 * Make the parts of a run for `opts`. The order matters for the seed: the connector and the
 * agents take the run's one random source, and nothing here draws from it yet.
 */
export async function startParts(opts: SoakOptions): Promise<SoakParts> {
  const run = new SoakRun(opts.seed, opts.log ?? (() => {}));
  const dir = mkdtempSync(join(tmpdir(), 'relay-soak-'));
  const dataDir = join(dir, 'data');
  const secret = `soak-relay-secret-${randomBytes(12).toString('hex')}`;
  const token = `soak-api-token-${randomBytes(12).toString('hex')}`;
  // while the chaos lasts the connector answers an outbound late now and then, or never
  const connector = await ChaosConnector.start({
    secret,
    answerDelay: () => {
      if (!run.chaos) return 0;
      const r = run.rand();
      if (r < 0.02) return undefined; // never answered: the sidecar's outbound timeout
      return r < 0.2 ? Math.floor(run.rand() * 400) : 0;
    },
  });
  // the agent: a push agent answers with an action now and then, a pull agent posts one
  const actions = new AgentActions(token);
  const push =
    opts.mode === 'push'
      ? await PushAgent.start(token, run.rand, 1_200, (seen) =>
          run.rand() < 0.3 ? actions.actionsFor(seen) : [],
        )
      : undefined;
  const env = sidecarEnv({
    dir,
    dataDir,
    secret,
    token,
    connectorUrl: connector.url,
    mode: opts.mode,
    ...(push ? { agentUrl: push.url } : {}),
    ...(opts.sidecarConfig !== undefined ? { sidecarConfig: opts.sidecarConfig } : {}),
    ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
  });
  const sidecar = new SidecarLives(run, connector, env);
  // the pull agent streams from whichever life runs, so it comes after the lives
  const pull =
    opts.mode === 'pull'
      ? new PullAgent(
          token,
          run.rand,
          () => sidecar.base(),
          (seen, b) => {
            if (run.rand() < 0.25) void actions.post(b, seen);
          },
        )
      : undefined;
  const ledger = (push?.ledger ?? pull?.ledger) as AgentLedger;
  const events = new EventGenerator(run, connector, ledger, opts.mode, dataDir);
  const replays = new DeadLetterReplays(run, sidecar, push, token);
  const schedule = new FaultSchedule(
    run,
    { connector, sidecar, events, replays, push, pull, badInput: new BadInput(run, connector, events) },
    opts.mode,
    opts.faultScale,
  );
  return {
    run,
    dir,
    dataDir,
    secret,
    token,
    connector,
    sidecar,
    events,
    actions,
    replays,
    schedule,
    ledger,
    push,
    pull,
  };
}
