/**
 * The loopback agent in pull mode: one `GET /v1/events` Server-Sent Events stream, each event's
 * envelope parsed and handed to the current tally, then confirmed with
 * `POST /v1/events/{id}/ack` over keep-alive connections (as a real pull agent must).
 */
import http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { Tally } from './tally.js';

/** Parallel ack connections. */
const ACK_SOCKETS = 16;

/** A connected pull agent. */
export class PullAgent {
  /** Deliveries received and acks that failed, of any run. */
  total = 0;
  ackErrors = 0;
  private tally: Tally | undefined;
  private readonly ackAgent = new http.Agent({ keepAlive: true, maxSockets: ACK_SOCKETS });
  private request: http.ClientRequest | undefined;

  private constructor(
    private readonly apiUrl: string,
    private readonly token: string,
  ) {}

  /** Open the stream; resolves once the sidecar answered 200. */
  static connect(apiUrl: string, token: string): Promise<PullAgent> {
    const agent = new PullAgent(apiUrl, token);
    return agent.open().then(() => agent);
  }

  /** Count into `tally` from now on. */
  expect(tally: Tally): void {
    this.tally = tally;
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${this.apiUrl}/v1/events`, {
        headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
      });
      this.request = req;
      req.on('error', reject);
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`GET /v1/events answered ${res.statusCode}`));
        }
        resolve();
        const decoder = new StringDecoder('utf8');
        let partial = '';
        res.on('data', (chunk: Buffer) => {
          const blocks = (partial + decoder.write(chunk)).split('\n\n');
          partial = blocks.pop() ?? '';
          for (const block of blocks) this.onBlock(block);
        });
        res.on('error', () => {});
      });
    });
  }

  private onBlock(block: string): void {
    let id: string | undefined;
    let data: string | undefined;
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (!id || data === undefined) return; // a comment or the retry hint
    this.total += 1;
    try {
      const envelope = JSON.parse(data) as { event?: { text?: unknown } };
      this.tally?.mark(envelope.event?.text);
    } catch {
      // not JSON: still acked, so the sidecar moves on
    }
    this.ack(id);
  }

  private ack(id: string): void {
    const req = http.request(`${this.apiUrl}/v1/events/${encodeURIComponent(id)}/ack`, {
      method: 'POST',
      agent: this.ackAgent,
      headers: { authorization: `Bearer ${this.token}`, 'content-length': 0 },
    });
    req.on('response', (res) => {
      if (res.statusCode !== 204) this.ackErrors += 1;
      res.resume();
    });
    req.on('error', () => {
      this.ackErrors += 1;
    });
    req.end();
  }

  /** End the stream and the ack connections. */
  async close(): Promise<void> {
    this.request?.destroy();
    this.ackAgent.destroy();
  }
}
