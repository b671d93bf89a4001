/**
 * A TCP proxy on 127.0.0.1 that can "freeze": from then on nothing crosses it in either
 * direction and no connection is closed — a network partition as the sidecar sees it (writes
 * succeed, nothing comes back, not even the answer to a close frame).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { ExecutionContext } from 'ava';

/** A running proxy. */
export interface FreezableProxy {
  /** The port to dial instead of the target's. */
  readonly port: number;
  /** Stop forwarding, both ways, on every current and future connection. */
  freeze(): void;
}

/** Proxy 127.0.0.1:<ephemeral> → 127.0.0.1:`targetPort`; destroyed at teardown. */
export async function startFreezableProxy(t: ExecutionContext, targetPort: number): Promise<FreezableProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const forward = (from: Socket, to: Socket) =>
    from.on('data', (chunk) => {
      // dropped, not buffered: a partition loses what was in flight
      if (!frozen) to.write(chunk);
    });
  const server: Server = createServer((client) => {
    const upstream = createConnection(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        // a partition does not tell the other side: only forward a close while not frozen
        if (!frozen) (s === client ? upstream : client).destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.teardown(
    () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  );
  return {
    port: (server.address() as { port: number }).port,
    freeze: () => {
      frozen = true;
    },
  };
}
