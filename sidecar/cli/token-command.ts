/**
 * `relay-sidecar token`: print a fresh upgrade token for `GATEWAY_RELAY_ID` / `GATEWAY_RELAY_SECRET`
 * (e.g. to try the connector with curl or websocat). The token goes to stdout alone, so it can be
 * captured; the warning that it is a credential goes to stderr.
 */
import { loadConfig } from '../../core/config/load.js';
import type { Config } from '../../core/config/schema.js';
import { upgradeToken } from '../../core/transport/auth-token.js';
import type { CliIo } from './cli-io.js';
import { withEnvFile } from './env-file.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';

/** Longest lifetime `--ttl` accepts, seconds (one day): a debugging token should not outlive that. */
export const MAX_TOKEN_TTL_S = 86_400;

/** Options of `token`. */
export interface TokenOptions {
  /** The sidecar's config file, as for `run`; default `$SIDECAR_CONFIG`. */
  config?: string;
  /** Read GATEWAY_RELAY_* from this env file; its values win over the process environment. */
  envPath?: string;
  /** Lifetime in seconds (1…86400); default `relay.tokenTtlS` (300). */
  ttl?: string | number;
}

/** Run `token`; returns the exit code (never throws). */
export function runToken(opts: TokenOptions, io: CliIo): ExitCode {
  const fail = (code: ExitCode, message: string): ExitCode => {
    io.stderr(`token: ${message}\n`);
    return code;
  };
  let env: NodeJS.ProcessEnv = io.env;
  try {
    if (opts.envPath !== undefined) env = withEnvFile(io.env, io.cwd, opts.envPath);
  } catch (err) {
    return fail(ExitCode.CONFIG, (err as Error).message);
  }
  let config: Config;
  try {
    config = loadConfig({ env, file: opts.config });
  } catch (err) {
    return fail(exitCodeFor(err), (err as Error).message);
  }
  const { gatewayId, secret } = config.relay;
  if (!gatewayId || !secret) {
    return fail(
      ExitCode.CONFIG,
      'GATEWAY_RELAY_ID and GATEWAY_RELAY_SECRET must both be set ' +
        '(run `relay-sidecar enroll` first, or pass --env-path .env.relay)',
    );
  }
  const ttl = opts.ttl === undefined ? config.relay.tokenTtlS : Number(opts.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_S) {
    return fail(ExitCode.CONFIG, `--ttl must be a whole number of seconds from 1 to ${MAX_TOKEN_TTL_S}`);
  }
  const nowMs = io.nowMs();
  const token = upgradeToken(gatewayId, secret, nowMs, ttl);
  io.stdout(`${token}\n`);
  const until = new Date((Math.floor(nowMs / 1000) + ttl) * 1000).toISOString();
  io.stderr(
    `warning: this is a credential for gateway ${gatewayId}, valid for ${ttl} seconds (until ${until}); ` +
      'do not paste it into logs, tickets or chats\n',
  );
  return ExitCode.OK;
}
