/**
 * Dead letters the push agent forgives: replayed through the API while the sidecar runs, or by
 * the CLI (`dead-letters replay <id>`) while it is down. A forgiven event must then be accepted
 * and its dead letter gone; the checks read {@link DeadLetterReplays.replayed} for that.
 */
import { runCli, type SidecarLives } from './sidecar-lives.js';
import type { PushAgent } from './soak-agents.js';
import type { SoakRun } from './soak-run.js';

/** The replays the soak made, and whether each was confirmed. */
export class DeadLetterReplays {
  /** delivery id ⇒ soak seq of every dead letter listed so far. */
  private readonly knownDead = new Map<string, number>();
  /** seq ⇒ the replay was confirmed (202, or the CLI queued it). */
  readonly replayed = new Map<number, boolean>();

  constructor(
    private readonly run: SoakRun,
    private readonly sidecar: SidecarLives,
    /** Replays are push only: the push agent is the one that rejects (poison) events. */
    private readonly push: PushAgent | undefined,
    private readonly token: string,
  ) {}

  /** List the dead letters through the API and replay about half of those not replayed yet. */
  async viaApi(): Promise<void> {
    const b = this.sidecar.base();
    const push = this.push;
    if (!b || !push) return;
    const auth = { authorization: `Bearer ${this.token}` };
    try {
      const res = await fetch(`${b}/v1/dead-letters?limit=500`, { headers: auth });
      const rows =
        ((await res.json()) as { dead_letters?: { id: string; kind: string }[] }).dead_letters ?? [];
      for (const row of rows) {
        if (row.kind !== 'delivery') {
          if (this.run.rand() < 0.3) await this.replayFrame(b, row.id);
          continue;
        }
        const s = this.seqOfDelivery(row.id);
        if (s === undefined) continue;
        this.knownDead.set(row.id, s);
        if (this.replayed.has(s) || this.run.rand() < 0.5) continue;
        push.forgiven.add(s);
        this.replayed.set(s, false);
        const r = await fetch(`${b}/v1/dead-letters/${row.id}/replay`, { method: 'POST', headers: auth });
        await r.body?.cancel();
        if (r.status === 202) this.replayed.set(s, true);
        else this.run.violations.push(`replay of dead letter ${row.id} (soak-${s}) answered ${r.status}`);
        this.run.bump('replays.api');
      }
    } catch {
      // the sidecar went away mid-call: the replay may or may not have happened
    }
  }

  /**
   * Replay a frame dead letter (a frame that failed its schema, or a forward its plugin rejects):
   * it fails again, and must end as one dead letter still (the end checks count them), or be
   * refused as `not_replayable` (409).
   */
  private async replayFrame(b: string, id: string): Promise<void> {
    const r = await fetch(`${b}/v1/dead-letters/${id}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}` },
    });
    await r.body?.cancel();
    this.run.bump(`replays.frame.${r.status}`);
    if (r.status !== 202 && r.status !== 409)
      this.run.violations.push(`replay of frame dead letter ${id} answered ${r.status}`);
  }

  /** Replay one known dead letter by the CLI (call while no life runs: the CLI opens the store). */
  async offline(): Promise<void> {
    const candidates = [...this.knownDead].filter(([, s]) => !this.replayed.has(s));
    if (!this.push || candidates.length === 0) return;
    const [id, s] = this.run.pick(candidates);
    this.push.forgiven.add(s);
    this.replayed.set(s, false);
    const out = await runCli(['dead-letters', 'replay', id], {
      ...this.sidecar.env,
      SIDECAR_LISTEN: '127.0.0.1:1',
    });
    this.run.bump('replays.offline');
    if (out.code === 0 && out.stdout.includes('queued')) this.replayed.set(s, true);
    else
      this.run.violations.push(
        `offline replay of ${id} (soak-${s}) failed: exit ${out.code} ${out.stdout}${out.stderr}`.slice(
          0,
          400,
        ),
      );
  }

  private seqOfDelivery(id: string): number | undefined {
    return this.push?.ledger.received.find((x) => x.id === id)?.seq;
  }
}
