/**
 * The chaos soak (bench/soak/soak.ts), short and with fixed seeds, so CI runs it: the real CLI
 * process, the real loopback connector and a real HTTP agent (push, then pull), events of three
 * platforms flowing while connector restarts, drops and terminations, agent failures and
 * restarts, and sidecar SIGTERM/SIGKILL restarts are mixed in. The invariants are the soak's:
 * every acked or safely written event reached the agent exactly once (one delivery id), each
 * session in order, no action applied twice, every poison delivery dead-lettered once, no secret
 * in any log line, no exit the soak did not cause. `npm run soak` runs the long version.
 */
import test from 'ava';
import { formatReport, runSoak } from '../../bench/soak/soak.js';

for (const [mode, seed] of [
  ['push', 20261127],
  ['pull', 20261128],
] as const) {
  test.serial(`chaos soak, ${mode} mode, seed ${seed}: every invariant holds`, async (t) => {
    const report = await runSoak({
      seed,
      mode,
      durationMs: 6_000,
      faultGapMs: 500,
      drainMs: 30_000,
      cover: true,
    });
    t.log(formatReport(report));
    t.deepEqual(report.violations, []);
    // the run did what it is for: events of every kind flowed and faults happened
    t.true((report.stats.eventsSent ?? 0) > 100, 'events flowed');
    t.true((report.stats.agentAccepted ?? 0) > 100, 'the agent accepted events');
    t.true(report.faults.length >= 9, 'every kind of fault ran');
    t.true((report.stats.sidecarLives ?? 0) >= 1);
  });
}
