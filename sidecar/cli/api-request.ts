/**
 * A small client for the sidecar's own agent API, used by CLI commands that talk to a running
 * sidecar (dead letters). Speaks TCP or a unix socket, as `SIDECAR_LISTEN` says.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { parseListenAddress } from '../../core/config/listen-address.js';
import type { Config } from '../../core/config/schema.js';
import { API_TOKEN_FILE } from '../agent-api/api-token.js';

/** True for an error of {@link apiRequest} that means nothing listens there (not running). */
export function nothingListens(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOENT';
}

/** One JSON answer. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The API token the running sidecar uses: configured, else the file it generated in its data
 * dir; undefined when neither is there (a request then goes without one: a sidecar that answers
 * says 401, and nothing listening means it is not running, which needs no token).
 */
export function apiTokenFor(config: Config): string | undefined {
  if (config.api.token) return config.api.token;
  try {
    return readFileSync(join(config.dataDir, API_TOKEN_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** What to do when the API refused a request made without a token. */
export function noTokenHint(config: Config): string {
  return (
    `no API token: set SIDECAR_API_TOKEN to the token the sidecar uses, or SIDECAR_DATA_DIR to its ` +
    `data dir (it writes ${API_TOKEN_FILE} there when no token is configured; ${config.dataDir} has none)`
  );
}

/** Call `method path` on the sidecar at `config.api.listen` with the bearer token. */
export function apiRequest(
  config: Config,
  method: string,
  path: string,
  timeoutMs = 10_000,
): Promise<ApiAnswer> {
  const address = parseListenAddress(config.api.listen);
  const token = apiTokenFor(config);
  const target =
    address.kind === 'unix' ? { socketPath: address.path } : { host: address.host, port: address.port };
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...target,
        method,
        path,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from the sidecar within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        Object.assign(new Error(`cannot reach the sidecar API at ${config.api.listen}: ${err.message}`), {
          code: err.code,
        }),
      ),
    );
    req.end();
  });
}
