/**
 * A minimal agent-side Server-Sent Events client for `GET /v1/events` (pull mode): parses
 * `id:` / `event:` / `data:` blocks as they stream in and lets a test wait for them.
 */
import http from 'node:http';

/** The envelope fields the tests read (agent-api.md, "Envelope"). */
export interface DeliveryEnvelope {
  readonly id?: string;
  readonly type?: string;
  readonly session_key?: string;
  readonly attempt?: number;
  readonly event?: { readonly text?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/** One SSE event. */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  /** `data:` parsed as JSON (undefined when not JSON). */
  readonly data: DeliveryEnvelope | undefined;
}

/** An open event stream. */
export class SseClient {
  /** Every event received, in order. */
  readonly events: SseEvent[] = [];
  private waiters: (() => void)[] = [];
  private ended = false;

  private constructor(
    readonly status: number,
    private readonly req: http.ClientRequest,
  ) {}

  /**
   * Open `url` with the bearer `token` (and `Last-Event-ID` when given). Plain node:http with
   * no keep-alive agent: closing destroys exactly this socket (an aborted `fetch` makes undici
   * open a spare connection, which would hold the server's close until its budget runs out).
   */
  static open(url: string, token: string, lastEventId?: string): Promise<SseClient> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers, agent: false }, (res) => {
        const client = new SseClient(res.statusCode ?? 0, req);
        void client.pump(res);
        resolve(client);
      });
      req.on('error', reject);
    });
  }

  /** Resolve once `pred` holds over the events; reject after `timeoutMs`. */
  async waitUntil(pred: (events: readonly SseEvent[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.events)) {
      if (this.ended) throw new Error('sse stream ended');
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`sse: condition not met within ${timeoutMs} ms (${this.events.length} events)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** End the stream. */
  close(): void {
    this.req.destroy();
  }

  private async pump(body: http.IncomingMessage): Promise<void> {
    body.setEncoding('utf8');
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += chunk as string;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          this.onBlock(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted or reset: the stream is over
    }
    this.ended = true;
    this.wake();
  }

  private onBlock(block: string): void {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue; // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) return;
    let parsed: DeliveryEnvelope | undefined;
    try {
      parsed = JSON.parse(data.join('\n')) as DeliveryEnvelope;
    } catch {
      parsed = undefined;
    }
    this.events.push({ id, event, data: parsed });
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
