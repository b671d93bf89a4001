/**
 * Ports on the fetch standard's "bad ports" list: fetch() refuses them before connecting, while
 * ws, undici's request and node:http have no such list. Tests bind a server to the first free one
 * to show a client reaches it.
 */
import type { Server } from 'node:net';

const FETCH_BAD_PORTS = [6000, 10080, 6665, 6666, 6667, 6668, 6669, 6697, 4190, 5060, 5061];

/**
 * Listen on 127.0.0.1 at the first free port of the list, and check that fetch() does refuse
 * it (else the test using it would prove nothing). Throws when no port of the list is free.
 */
export async function listenOnFetchBadPort(server: Server): Promise<number> {
  for (const candidate of FETCH_BAD_PORTS) {
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    const refusal = await fetch(`http://127.0.0.1:${candidate}/`).then(
      () => 'answered',
      (err: unknown) => String((err as { cause?: unknown }).cause),
    );
    if (!/bad port/.test(refusal)) throw new Error(`fetch() did not refuse port ${candidate}: ${refusal}`);
    return candidate;
  }
  throw new Error(`none of the fetch "bad ports" is free here (${FETCH_BAD_PORTS.join(', ')}); free one`);
}
