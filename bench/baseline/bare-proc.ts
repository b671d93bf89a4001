/** The harness's handle on the bare-baseline process (see `bare-child.ts`). */

import { benchModule } from '../lib/paths.js';
import { ChildRpc } from '../lib/rpc.js';
import type { Percentiles } from '../lib/stats.js';

/** Credentials and address a bare peer dials with. */
export interface BarePeerArgs {
  readonly connectorUrl: string;
  readonly gatewayId: string;
  readonly secret: string;
  /** Bearer the bare APIs expect. */
  readonly token: string;
}

/** What the bare reader counted. */
export interface BareCount {
  readonly expected: number;
  readonly distinct: number;
  readonly duplicates: number;
  readonly firstUs: number;
  readonly lastUs: number;
  readonly latency?: Percentiles;
}

/** The running bare process. */
export class BareProc {
  private counts = new Map<number, number>();

  private constructor(readonly rpc: ChildRpc) {
    rpc.on('count', (d: { tag: number; received: number }) => this.counts.set(d.tag, d.received));
  }

  /** Fork the bare process. */
  static start(): BareProc {
    return new BareProc(ChildRpc.fork(benchModule('baseline/bare-child.js')));
  }

  /** The reader's latest distinct count for run `tag`. */
  received(tag: number): number {
    return this.counts.get(tag) ?? 0;
  }

  connectReader(args: BarePeerArgs): Promise<void> {
    return this.rpc.call('connectReader', args);
  }

  disconnectReader(): Promise<void> {
    return this.rpc.call('disconnectReader');
  }

  /**
   * Start counting run `tag` (n events). Resolves once the reader counts (send only then);
   * `done` resolves when all arrived or after `timeoutMs`.
   */
  async expect(
    tag: number,
    n: number,
    latency: boolean,
    timeoutMs: number,
  ): Promise<{ done: Promise<BareCount> }> {
    await this.rpc.call('arm', { tag, n, latency });
    return { done: this.rpc.call<BareCount>('finish', { tag, latency, timeoutMs }, timeoutMs + 5_000) };
  }

  /** Start the bare HTTP and bare relay APIs. */
  startApi(args: BarePeerArgs): Promise<{ httpPort: number; relayPort: number }> {
    return this.rpc.call('startApi', args);
  }

  stop(): Promise<void> {
    return this.rpc.stop();
  }
}
