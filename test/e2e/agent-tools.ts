/**
 * Tools around the loopback agent for the e2e tests: a TCP gate that makes the agent's address
 * refuse connections (down) and accept them again (up) on the same port, and a book of which
 * deliveries the agent acknowledged (answered 2xx) so a test can prove none came back after.
 */
import net from 'node:net';
import type { AgentReply, AgentScript, LoopbackAgent, RecordedDelivery } from '../helpers/loopback-agent.js';

/**
 * A switchable TCP forwarder in front of an agent: while down nothing listens on its port (a
 * dial gets ECONNREFUSED, like an agent process that is not running); while up every
 * connection is piped to the agent.
 */
export class AgentGate {
  private server: net.Server | undefined;
  private readonly pipes = new Set<net.Socket>();

  private constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  /** A gate in front of `agent`, initially up or down. */
  static async start(agent: LoopbackAgent, up: boolean): Promise<AgentGate> {
    // take a free port from the kernel, then keep it while up
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const gate = new AgentGate(port, Number(new URL(agent.url).port));
    if (up) await gate.up();
    return gate;
  }

  /** The push URL to configure (same path as the agent's). */
  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Accept and forward connections. */
  async up(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((inbound) => {
      const outbound = net.connect(this.targetPort, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.pipes.add(s);
        s.on('close', () => this.pipes.delete(s));
        s.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stop listening and cut every forwarded connection. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.pipes) s.destroy();
    this.pipes.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Which delivery ids the agent acknowledged, and at which request index. */
export class AckBook {
  /** delivery id ⇒ index (in `agent.deliveries`) of the request answered 2xx. */
  readonly ackedAt = new Map<string, number>();

  /** A script that answers with `decide` and books every 2xx answer. */
  script(decide: (d: RecordedDelivery) => AgentReply | Promise<AgentReply>): AgentScript {
    return async (d) => {
      const reply = await decide(d);
      const status = reply.status ?? 200;
      if (!reply.hang && !reply.refuse && status >= 200 && status < 300 && d.id && !this.ackedAt.has(d.id)) {
        this.ackedAt.set(d.id, d.index);
      }
      return reply;
    };
  }

  /** Requests for an id after the agent had acknowledged it (must be empty). */
  redeliveredAfterAck(deliveries: readonly RecordedDelivery[]): RecordedDelivery[] {
    return deliveries.filter((d) => {
      const at = d.id === undefined ? undefined : this.ackedAt.get(d.id);
      return at !== undefined && d.index > at;
    });
  }

  /** The event texts acknowledged, in acknowledgement order. */
  ackedTexts(deliveries: readonly RecordedDelivery[]): string[] {
    return [...this.ackedAt.values()]
      .sort((a, b) => a - b)
      .map((i) => String(deliveries[i]?.envelope?.event?.text));
  }

  /** Acknowledged texts of one session, in acknowledgement order. */
  ackedTextsOf(deliveries: readonly RecordedDelivery[], sessionKey: string): string[] {
    return [...this.ackedAt.values()]
      .sort((a, b) => a - b)
      .map((i) => deliveries[i])
      .filter((d) => d?.envelope?.session_key === sessionKey)
      .map((d) => String(d?.envelope?.event?.text));
  }
}

/** The text of a delivery's event (`undefined` for interrupts and unparsable bodies). */
export function textOf(d: RecordedDelivery): string | undefined {
  const text = d.envelope?.event?.text;
  return typeof text === 'string' ? text : undefined;
}
