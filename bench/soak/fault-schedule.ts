/**
 * The faults the soak mixes in and how each is injected: connector restarts, drops with close
 * codes, abrupt terminations, 4401s and an unsolicited going_idle_ack; agent restarts, flaky
 * spells, stream drops (pull) and dead-letter replays (push); sidecar SIGTERM and SIGKILL on the
 * same data dir, a freeze of the sidecar (SIGSTOP, SIGCONT 1–3 s later); a burst of malformed
 * frames from the connector (bad-input.ts) and a connector that stops reading its socket for
 * 1–3 s. The schedule draws
 * a fault at a random gap until the duration is over (and, with `cover`, until every kind ran
 * once).
 */
import type { BadInput } from './bad-input.js';
import type { ChaosConnector } from './chaos-connector.js';
import type { DeadLetterReplays } from './dead-letter-replays.js';
import type { EventGenerator } from './event-generator.js';
import type { SidecarLives } from './sidecar-lives.js';
import type { PullAgent, PushAgent, PushFaults } from './soak-agents.js';
import { type SoakRun, sleep } from './soak-run.js';

const COMMON_FAULTS = [
  'connector-restart',
  'connector-drop',
  'connector-terminate',
  'connector-4401-expired',
  'connector-4401-other',
  'connector-unsolicited-idle-ack',
  'agent-restart',
  'agent-flaky',
  'sidecar-sigterm',
  'sidecar-sigkill',
  'sidecar-freeze',
  'connector-bad-input',
  'connector-stops-reading',
] as const;

/** A kind of fault. */
export type FaultName = (typeof COMMON_FAULTS)[number] | 'replay-dead-letters' | 'agent-stream-drop';

/** The push agent's failures outside a flaky spell (the rest answer 200). */
export const CALM_AGENT: PushFaults = { p5xx: 0.03, p429: 0.01, pHang: 0.005, pSlow: 0.05, pRefuse: 0.01 };
/** The push agent's failures during a flaky spell. */
const FLAKY_AGENT: PushFaults = { p5xx: 0.15, p429: 0.05, pHang: 0.04, pSlow: 0.1, pRefuse: 0.06 };

/** The parts a fault acts on. */
export interface FaultTargets {
  readonly connector: ChaosConnector;
  readonly sidecar: SidecarLives;
  readonly events: EventGenerator;
  readonly replays: DeadLetterReplays;
  readonly push: PushAgent | undefined;
  readonly pull: PullAgent | undefined;
  readonly badInput: BadInput;
}

/** Draws and injects the faults of one run. */
export class FaultSchedule {
  /** The kinds of fault of this mode, in a fixed order (the draws index into it). */
  readonly kinds: readonly FaultName[];
  /** When the last non-expired 4401 was sent (they are kept apart, see `connector-4401-other`). */
  private last4401 = 0;

  constructor(
    private readonly run: SoakRun,
    private readonly to: FaultTargets,
    mode: 'push' | 'pull',
    /** Scales how long a fault lasts. */
    private readonly faultScale = 1,
  ) {
    this.kinds = [
      ...COMMON_FAULTS,
      ...(mode === 'push' ? (['replay-dead-letters'] as const) : []),
      ...(mode === 'pull' ? (['agent-stream-drop'] as const) : []),
    ];
  }

  /** Every kind once, in a seeded order (for `cover`). */
  coverOrder(): FaultName[] {
    return [...this.kinds].sort(() => this.run.rand() - 0.5);
  }

  /**
   * Inject faults at random gaps (mean `faultGapMs`) until `endAt` and until `toCover` is
   * empty (it is taken first, in its order).
   */
  async runUntil(endAt: number, toCover: FaultName[], faultGapMs: number): Promise<void> {
    while (Date.now() < endAt || toCover.length > 0) {
      await sleep(Math.floor(faultGapMs / 2 + this.run.rand() * faultGapMs));
      if (Date.now() >= endAt && toCover.length === 0) break;
      await this.inject(toCover.shift() ?? this.run.pick(this.kinds));
    }
  }

  /** Inject one fault; resolves once it is over (the part is back up). */
  async inject(name: FaultName): Promise<void> {
    const { run, to } = this;
    run.faults.push(`${run.since()} ${name}`);
    run.bump(`faults.${name}`);
    run.say(`${run.since()} ms: ${name}`);
    switch (name) {
      case 'connector-restart':
        return this.cutConnections(async () => {
          await to.connector.down();
          await sleep(this.pause(1_500));
          await to.connector.up();
        });
      case 'connector-drop': {
        const code = run.pick([1000, 1001, 1011, 1012, 1013, 4000]);
        to.connector.drop(code, `soak drop ${code}`);
        return;
      }
      case 'connector-terminate':
        return this.cutConnections(async () => to.connector.terminate());
      case 'connector-4401-other':
        // one non-expired 4401 after a handshake: one immediate re-dial with a fresh token (a second
        // within relay.stableAfterMs would be revocation, so they are kept apart)
        // (the connection up past stableAfterMs has reset the strike of the one before)
        if (Date.now() - this.last4401 > 6_000 && to.connector.currentConnAgeMs > 3_000) {
          this.last4401 = Date.now();
          to.connector.drop(4401, 'invalid');
        }
        return;
      case 'connector-4401-expired':
        to.connector.drop(4401, 'expired');
        return;
      case 'connector-unsolicited-idle-ack':
        to.connector.sendRaw({ type: 'going_idle_ack' });
        return;
      case 'agent-restart':
        return this.restartAgent();
      case 'agent-flaky':
        if (to.push) {
          to.push.faults = FLAKY_AGENT;
          await sleep(this.scaled(1_000 + run.rand() * 3_000));
          to.push.faults = CALM_AGENT;
        }
        return;
      case 'replay-dead-letters':
        return to.replays.viaApi();
      case 'agent-stream-drop':
        to.pull?.dropStream();
        return;
      case 'sidecar-sigterm':
      case 'sidecar-sigkill':
        return this.restartSidecar(name === 'sidecar-sigterm' ? 'SIGTERM' : 'SIGKILL');
      case 'sidecar-freeze':
        // a paused container or VM: the process stops whole, its peers and timers go on; past
        // agent.timeoutMs and relay.outboundTimeoutMs, which must not fire on what arrived meanwhile
        return this.to.sidecar.freeze(this.scaled(1_000 + this.run.rand() * 2_000));
      case 'connector-bad-input': {
        // malformed frames among the good ones; now and then one over the limit, which cuts
        const count = 4 + Math.floor(run.rand() * 8);
        const oversizeAt = run.rand() < 0.4 ? Math.floor(run.rand() * count) : -1;
        return to.badInput.burst(count, oversizeAt, (send) => this.cutConnections(send));
      }
      case 'connector-stops-reading': {
        // a stalled connector: the sidecar's acks and outbounds back up, pings go unanswered
        // (well within relay.pongTimeoutMs), then it reads everything at once
        const ms = this.scaled(1_000 + run.rand() * 2_000);
        to.connector.pauseReading(ms);
        await sleep(ms);
        return;
      }
    }
  }

  /**
   * Cut the connector's connections by `cut`; a second later (ingest has settled), the live
   * frames of the cut connections that were neither committed nor seen are at risk.
   */
  private async cutConnections(cut: () => Promise<void>): Promise<void> {
    const { connector } = this.to;
    const from = connector.currentConnSeq || connector.lastConnSeq;
    const upTo = connector.lastConnSeq;
    await cut();
    await sleep(1_000);
    this.to.events.markAtRisk(from, upTo);
  }

  /** The agent process is gone for a while (push: its port refuses; pull: no stream). */
  private async restartAgent(): Promise<void> {
    const ms = 300 + Math.floor(this.run.rand() * 2_500);
    const { push, pull } = this.to;
    if (push) {
      await push.gate.down();
      await sleep(this.scaled(ms));
      await push.gate.up();
    } else await pull?.restart(this.scaled(ms));
  }

  /** End the sidecar with `signal`, maybe replay a dead letter by the CLI meanwhile, start it again. */
  private async restartSidecar(signal: NodeJS.Signals): Promise<void> {
    const used = await this.to.sidecar.stop(signal);
    if (used && signal === 'SIGKILL') this.to.events.markAtRisk(used.fromSeq, used.upTo);
    if (this.to.push && this.run.rand() < 0.5) await this.to.replays.offline();
    await sleep(this.pause(1_000));
    await this.to.sidecar.start();
  }

  /** How long a fault lasts: `ms` scaled by `faultScale`. */
  private scaled(ms: number): number {
    return Math.floor(this.faultScale * ms);
  }

  /** A random pause up to `ms`, scaled. */
  private pause(ms: number): number {
    return this.scaled(this.run.rand() * ms);
  }
}
