/**
 * The harness's handle on the connector process: start it (on a fixed port for the sidecar),
 * run a blast while feeding it the receiver's count as credit, and close it (getting back the
 * buffered frames it still owes, for a restart).
 */

import { benchModule } from '../lib/paths.js';
import { ChildRpc } from '../lib/rpc.js';
import type { BlastResult, BlastSpec } from './blaster.js';

/** Which connector: `main` (the sidecar's) or `base` (the baselines'). */
export type Which = 'main' | 'base';

/** A completed handshake on a connector: the first descriptor sent on connection `conn`. */
export interface Handshake {
  readonly which: Which;
  readonly conn: number;
  readonly atUs: number;
}

/** How often the receiver's count is passed to the connector as credit, ms. */
const CREDIT_EVERY_MS = 5;

/** What a closing connector hands back. */
export interface ClosedConnector {
  /** Buffered lines never acked (a durable connector would keep them). */
  readonly pending: string[];
  /** The seq the interrupted blast would have sent next. */
  readonly nextSeq: number;
  readonly closedUs: number;
}

/** A running connector process. */
export class ConnectorProc {
  private constructor(
    readonly rpc: ChildRpc,
    readonly mainPort: number,
    readonly basePort: number,
    /** When the process was asked to start and when both connectors listened, µs. */
    readonly listeningUs: number,
    /** Completed handshakes (first descriptor of each connection), in order. */
    readonly handshakes: Handshake[],
  ) {}

  /** Fork the connector process and listen (`main` on `port`); `replay` = lines owed from before. */
  static async start(port: number, secret: string, replay: readonly string[] = []): Promise<ConnectorProc> {
    const rpc = ChildRpc.fork(benchModule('connector/connector-child.js'));
    // subscribed before anything can connect, so no handshake goes unseen
    const handshakes: Handshake[] = [];
    rpc.on('ready', (d: Handshake) => handshakes.push(d));
    try {
      const r = await rpc.call<{ mainPort: number; basePort: number; listeningUs: number }>(
        'start',
        { port, secret, replay },
        20_000,
      );
      return new ConnectorProc(rpc, r.mainPort, r.basePort, r.listeningUs, handshakes);
    } catch (err) {
      await rpc.stop(1_000);
      throw err;
    }
  }

  /** Base URL of a connector (what `GATEWAY_RELAY_URL` is set to). */
  url(which: Which): string {
    return `http://127.0.0.1:${which === 'main' ? this.mainPort : this.basePort}`;
  }

  /** Wait until a peer has completed its hello on `which`. */
  waitConnected(which: Which, timeoutMs = 10_000): Promise<number> {
    return this.rpc.call<number>('waitConnected', { which, timeoutMs }, timeoutMs + 1_000);
  }

  /** Run a blast; `received()` is the receiver's distinct count, passed on as credit. */
  async blast(which: Which, spec: BlastSpec, received: () => number): Promise<BlastResult> {
    const timer = setInterval(
      () => this.rpc.notify('credit', { which, received: received() }),
      CREDIT_EVERY_MS,
    );
    try {
      return await this.rpc.call<BlastResult>('blast', { which, spec }, spec.maxMs + 10_000);
    } finally {
      clearInterval(timer);
    }
  }

  /** Stop a running blast. */
  stopBlast(which: Which): void {
    this.rpc.notify('stopBlast', { which });
  }

  /** Buffered frames of `main` not yet acked. */
  pending(): Promise<number> {
    return this.rpc.call<number>('pending', { which: 'main' });
  }

  /** Outbound frames `which` has received so far. */
  outboundSeen(which: Which): Promise<number> {
    return this.rpc.call<number>('outboundSeen', { which });
  }

  /** Hold every outbound result of `which` until {@link release}. */
  hold(which: Which): Promise<void> {
    return this.rpc.call('hold', { which });
  }

  /** Answer every held outbound of `which`; resolves with how many. */
  release(which: Which): Promise<number> {
    return this.rpc.call<number>('release', { which });
  }

  /** Close both connectors (sockets get 1001) and end the process. */
  async close(): Promise<ClosedConnector> {
    try {
      return await this.rpc.call<ClosedConnector>('close', {}, 10_000);
    } finally {
      await this.rpc.stop(2_000);
    }
  }
}
