/**
 * The loopback agent in push mode: an HTTP server the sidecar POSTs envelopes to. It parses each
 * envelope (as any agent must), hands the event text to the current tally and answers `200 {}`.
 * It does not verify the signature: that is the agent's CPU, not the sidecar's.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tally } from './tally.js';

/** A running push agent. */
export class PushAgent {
  /** Deliveries received, of any run. */
  total = 0;
  private tally: Tally | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Listen on 127.0.0.1 (ephemeral port). */
  static async start(): Promise<PushAgent> {
    let agent: PushAgent | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            event?: { text?: unknown };
          };
          agent?.received(envelope.event?.text);
        } catch {
          // not an envelope: still a 2xx, the benchmark counts only what it recognises
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
        res.end('{}');
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    agent = new PushAgent(server, `http://127.0.0.1:${port}/deliver`);
    return agent;
  }

  /** Count into `tally` from now on. */
  expect(tally: Tally): void {
    this.tally = tally;
  }

  private received(text: unknown): void {
    this.total += 1;
    this.tally?.mark(text);
  }

  /** Close the server and its connections. */
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
