/**
 * Bind the HTTP server to its listen address: TCP (`host:port`, loopback only) or a unix socket
 * (a stale socket file is removed, a live one is never stolen, mode 0600 after bind). A failure
 * says what its errno means here and what to do.
 */
import { chmodSync, existsSync, lstatSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { formatListenAddress, isLoopbackHost, type ListenAddress } from '../../core/config/listen-address.js';
import { RelayError } from '../../core/errors.js';

const failed = (address: ListenAddress, why: string, cause?: unknown) =>
  new RelayError(
    'CORE_ERR_API_LISTEN_FAILED',
    `agent api cannot listen on ${formatListenAddress(address)}: ${why}`,
    {
      ...(cause === undefined ? {} : { cause }),
      details: { address: formatListenAddress(address) },
    },
  );

/** True when something accepts connections on the unix socket at `path`. */
function socketIsLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Make `path` free for a new socket: remove a stale socket file; refuse anything else. */
async function prepareUnixPath(address: ListenAddress & { kind: 'unix' }): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(address.path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw failed(address, `cannot inspect the path (${(err as NodeJS.ErrnoException).code})`, err);
  }
  // never delete a regular file by mistake: only a socket file may be replaced
  if (!isSocket) throw failed(address, 'the path exists and is not a socket');
  if (await socketIsLive(address.path)) throw failed(address, 'another process is listening on this socket');
  try {
    unlinkSync(address.path);
  } catch (err) {
    throw failed(address, `cannot remove the stale socket (${(err as NodeJS.ErrnoException).code})`, err);
  }
}

/** The errno of a failed listen, with what it means here and what to do. */
function listenProblem(address: ListenAddress, err: NodeJS.ErrnoException): string {
  const code = err.code ?? err.message;
  if (code === 'EADDRINUSE') {
    return `${code}: another process listens there (another relay-sidecar?); stop it, or set SIDECAR_LISTEN to a free port`;
  }
  if (code !== 'EACCES') return code;
  if (address.kind === 'tcp')
    return `${code}: this user may not bind that port (below 1024?); choose another port`;
  // Linux answers EACCES, not ENOENT, for a socket in a directory that does not exist
  const dir = dirname(address.path);
  if (!existsSync(dir))
    return `the directory ${dir} does not exist (listen answered ${code}); create it (mode 0700) or choose another path`;
  return `${code}: this user may not create a socket in ${dir}; fix its owner or mode, or choose another path`;
}

/**
 * `CORE_ERR_API_LISTEN_FAILED` for a TCP address off loopback (bindServer refuses it, doctor
 * reports it), else undefined. The API serves the agent beside it, and /healthz, /readyz and
 * /metrics answer without a token.
 */
export function notLoopback(address: ListenAddress): RelayError | undefined {
  if (address.kind === 'unix' || isLoopbackHost(address.host)) return undefined;
  return failed(
    address,
    'not a loopback address: the agent API is bound to loopback (127.0.0.1 or ::1); an agent in ' +
      'another container shares the network namespace or a unix:/path socket on a shared volume',
  );
}

/**
 * Listen on `address`. Resolves with the bound address (the real port when 0 was asked);
 * rejects with `CORE_ERR_API_LISTEN_FAILED` naming the address.
 */
export async function bindServer(server: Server, address: ListenAddress): Promise<ListenAddress> {
  const refusal = notLoopback(address);
  if (refusal) throw refusal;
  if (address.kind === 'unix') await prepareUnixPath(address);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(failed(address, listenProblem(address, err), err));
    server.once('error', onError);
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    if (address.kind === 'unix') server.listen({ path: address.path }, onListening);
    else server.listen({ host: address.host, port: address.port }, onListening);
  });
  if (address.kind === 'unix') {
    try {
      chmodSync(address.path, 0o600); // only our user may talk to the agent API
    } catch (err) {
      server.close();
      throw failed(
        address,
        `cannot restrict the socket to mode 0600 (${(err as NodeJS.ErrnoException).code})`,
        err,
      );
    }
    return address;
  }
  const bound = server.address();
  const port = bound && typeof bound === 'object' ? bound.port : address.port;
  return { kind: 'tcp', host: address.host, port };
}
