/** The whole outcome of one harness run, as written to `bench/results/*.json`. */
import type { MachineInfo } from '../lib/machine.js';
import type { InboundResult } from '../scenarios/inbound.js';
import type { LatencyResult } from '../scenarios/latency.js';
import type { MemoryResult } from '../scenarios/memory.js';
import type { OutboundResult } from '../scenarios/outbound.js';
import type { PassthroughResult } from '../scenarios/passthrough.js';
import type { ReconnectResult } from '../scenarios/reconnect.js';
import type { Sizes } from '../scenarios/sizes.js';
import type { ProfileSummary } from './cpu-profile.js';

/** Everything a run measured. Sections are absent when not selected (`--only`). */
export interface BenchResults {
  readonly startedAt: string;
  finishedAt?: string;
  readonly sizes: Sizes;
  readonly machine: MachineInfo;
  /** Non-default sidecar settings of this run (`--sidecar-env`, `--sidecar-config`), if any. */
  readonly sidecarSettings?: {
    readonly env: Record<string, string>;
    readonly config?: Record<string, unknown>;
  };
  /** The 1-minute load average, sampled every 5 s during the run. */
  readonly load: number[];
  readonly inbound: InboundResult[];
  readonly latency: LatencyResult[];
  passthrough?: PassthroughResult;
  outbound?: OutboundResult;
  memory?: MemoryResult;
  reconnect?: ReconnectResult;
  /** Warn/error log lines of the sidecars, by code. */
  readonly problems: Record<string, number>;
  /** CPU profiles written with `--profile`, summarised. */
  profiles?: ProfileSummary[];
  /** A scenario that failed (the run continues with the next). */
  readonly failures: { readonly scenario: string; readonly error: string }[];
}
