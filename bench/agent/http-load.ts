/**
 * The agent's side of outbound: `POST /v1/actions` from `concurrency` callers in a closed loop
 * (each sends its next request when the previous answered), for a bounded time and count, with
 * the latency of every call. Also fires a burst of calls at once, to hold them in flight.
 */
import http from 'node:http';
import { nowUs } from '../lib/clock.js';

/** One load run. */
export interface LoadSpec {
  /** Full URL of the actions endpoint. */
  readonly url: string;
  readonly token: string;
  /** The request body (a JSON action). */
  readonly body: string;
  readonly concurrency: number;
  /** Stop starting requests after this long, ms. */
  readonly durationMs: number;
  /** …or after this many requests, whichever comes first. */
  readonly maxRequests: number;
}

/** What a load run measured. */
export interface LoadResult {
  readonly completed: number;
  /** Non-200 answers and transport errors. */
  readonly errors: number;
  readonly elapsedMs: number;
  readonly latenciesMs: number[];
}

/** One POST; resolves with the status (0 for a transport error), never rejects. */
export function post(agent: http.Agent, url: string, token: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        // the agent reads its result, as a real one would
        let ok = res.statusCode === 200;
        try {
          ok &&=
            (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { result?: { success?: boolean } }).result
              ?.success === true;
        } catch {
          ok = false;
        }
        resolve(ok ? 200 : (res.statusCode ?? 0) || 1);
      });
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** Run the closed loop. */
export async function closedLoop(spec: LoadSpec): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  const t0 = nowUs();
  const deadline = t0 + spec.durationMs * 1000;
  const caller = async () => {
    while (started < spec.maxRequests && nowUs() < deadline) {
      started += 1;
      const s = nowUs();
      const status = await post(agent, spec.url, spec.token, spec.body);
      if (status === 200) latencies.push((nowUs() - s) / 1000);
      else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, caller));
  const elapsedMs = (nowUs() - t0) / 1000;
  agent.destroy();
  return { completed: latencies.length, errors, elapsedMs, latenciesMs: latencies };
}

/** A burst of calls started at once. */
export interface Burst {
  readonly agent: http.Agent;
  /** Resolves with every call's status (200, another status, or 0 for a transport error). */
  readonly done: Promise<number[]>;
  /** Calls answered so far (successfully or not). */
  answered(): number;
}

/** Start `n` calls at once (one connection each). */
export function burst(url: string, token: string, body: string, n: number): Burst {
  const agent = new http.Agent({ keepAlive: false, maxSockets: n });
  let answered = 0;
  const done = Promise.all(
    Array.from({ length: n }, () =>
      post(agent, url, token, body).then((status) => {
        answered += 1;
        return status;
      }),
    ),
  );
  return { agent, done, answered: () => answered };
}
