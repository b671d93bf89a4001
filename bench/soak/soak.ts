/**
 * The seeded chaos soak: the real sidecar CLI process, the real loopback connector and a real
 * loopback agent (push or pull), a stream of events (Discord group chats, edits, slash commands
 * with interaction tokens, Telegram DMs, Slack channels; live and buffered) and agent actions
 * going out, while faults are mixed in at random: connector restarts, drops with close codes and
 * abrupt terminations, an unsolicited going_idle_ack; agent 5xx, 429, timeouts, slow answers,
 * resets and restarts; sidecar SIGTERM, SIGKILL and freezes; malformed frames from the
 * connector, and a connector that stops reading for a while. At the end, with the
 * faults off, everything drains and the end-to-end invariants are checked.
 *
 * Everything random comes from one seeded generator, so a seed names a fault schedule (the
 * timing of a loaded machine still varies between runs). This file runs one soak from end to
 * end: soak-parts.ts wires the parts, soak-phases.ts runs the chaos, the drain and the checks;
 * event-generator.ts makes the events, fault-schedule.ts the faults, sidecar-lives.ts starts and
 * ends the sidecar, delivery-invariants.ts and sidecar-invariants.ts hold the checks.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SidecarProcess } from '../../test/helpers/sidecar-process.js';
import { CALM_AGENT } from './fault-schedule.js';
import { checkLogs, countAnsweredTimeouts } from './sidecar-invariants.js';
import type { AgentLedger } from './soak-agents.js';
import { startParts } from './soak-parts.js';
import { checkEnd, drain, runChaos } from './soak-phases.js';
import type { SoakReport } from './soak-report.js';
import { type SoakOptions, sleep } from './soak-run.js';

export { formatReport, type SoakReport } from './soak-report.js';
export { type SoakOptions, seeded } from './soak-run.js';

/** Run one soak; never throws for a violation (it is in the report). */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const p = await startParts(opts);
  const { run, sidecar, push, pull, connector, ledger } = p;
  try {
    await sidecar.start();
    pull?.start();
    if (pull) pull.chaos = true;
    if (push) push.faults = CALM_AGENT;
    await runChaos(p, opts);
    await drain(p, opts.drainMs ?? 60_000);
    await sleep(300); // late duplicates, if any, have a moment to show up
    await checkEnd(p, opts.mode);
  } catch (err) {
    run.violations.push(`the soak itself failed: ${(err as Error).stack ?? err}`);
  } finally {
    run.chaos = false;
    await pull?.stop();
    if (sidecar.running) await sidecar.stop('SIGTERM').catch(() => undefined);
    await push?.close();
    await connector.close();
    // after the last life ended: its log is complete
    checkLogs(run, sidecar.lives, {
      secret: p.secret,
      token: p.token,
      interactionTokens: p.events.interactionTokens,
    });
    countAnsweredTimeouts(run, sidecar.lives, connector.unanswered);
    if (opts.logsDir) keepLogs(opts.logsDir, sidecar.lives, run.faults, ledger);
    rmSync(p.dir, { recursive: true, force: true });
  }
  const { violations, stats, notes, faults } = run;
  return {
    seed: opts.seed,
    mode: opts.mode,
    passed: violations.length === 0,
    violations,
    stats,
    notes,
    faults,
  };
}

/** Keep each life's output, the fault schedule and the agent's ledger in `logsDir`. */
function keepLogs(
  logsDir: string,
  lives: readonly SidecarProcess[],
  faults: string[],
  ledger: AgentLedger,
): void {
  mkdirSync(logsDir, { recursive: true });
  for (const [i, life] of lives.entries()) {
    writeFileSync(join(logsDir, `life-${i + 1}.log`), life.text());
  }
  writeFileSync(join(logsDir, 'faults.txt'), `${faults.join('\n')}\n`);
  const accIndex = (id: string) => ledger.acceptedIds.get(id);
  writeFileSync(
    join(logsDir, 'agent.jsonl'),
    ledger.received.map((x, i) => JSON.stringify({ i, ...x, accepted: accIndex(x.id) })).join('\n'),
  );
}
