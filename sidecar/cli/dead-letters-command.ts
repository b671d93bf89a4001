/**
 * `relay-sidecar dead-letters list|show <id>|replay <id>`: inspect and replay what the sidecar
 * dead-lettered (rejected deliveries, poison and quarantined frames): via its API when it runs,
 * else from its store (a replay is then queued for its next start).
 */
import { join } from 'node:path';
import { loadConfig } from '../../core/config/load.js';
import type { Config } from '../../core/config/schema.js';
import { API_TOKEN_FILE } from '../agent-api/api-token.js';
import { MAX_LIST } from '../agent-api/dead-letter-routes.js';
import { apiRequest, apiTokenFor, noTokenHint, nothingListens } from './api-request.js';
import type { CliIo } from './cli-io.js';
import { deadLettersOffline } from './dead-letters-offline.js';
import { withEnvFile } from './env-file.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';

/** The sub-actions. */
export type DeadLetterAction = { kind: 'list'; limit?: number } | { kind: 'show' | 'replay'; id: string };

/**
 * Where the sidecar's settings come from besides the environment, as for `run`: its API address,
 * token and data dir may be in its config file or env file, and only there.
 */
export interface DeadLetterSource {
  /** Config file (YAML or JSON); default `$SIDECAR_CONFIG`. */
  readonly config?: string;
  /** Env file read over the environment (e.g. `.env.relay`). */
  readonly envPath?: string;
}

interface Row {
  id: string;
  kind: string;
  code: string;
  message: string;
  created_at: string;
}

/** Run one sub-action against the sidecar configured by `io.env` and `source`; returns the exit code. */
export async function runDeadLetters(
  action: DeadLetterAction,
  io: CliIo,
  source: DeadLetterSource = {},
): Promise<number> {
  if (action.kind === 'list' && action.limit !== undefined) {
    const n = action.limit;
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIST) {
      io.stderr(`dead-letters: --limit must be a whole number from 1 to ${MAX_LIST}\n`);
      return ExitCode.CONFIG;
    }
  }
  let config: Config;
  try {
    const env = source.envPath === undefined ? io.env : withEnvFile(io.env, io.cwd, source.envPath);
    config = loadConfig({ env, file: source.config });
  } catch (err) {
    io.stderr(`dead-letters: ${(err as Error).message}\n`);
    return exitCodeFor(err);
  }
  try {
    if (action.kind === 'list') {
      const res = await apiRequest(config, 'GET', `/v1/dead-letters?limit=${action.limit ?? 50}`);
      if (res.status !== 200) return failed(io, config, res.status, res.body);
      printList(io, res.body);
      return ExitCode.OK;
    }
    const id = encodeURIComponent(action.id);
    const res =
      action.kind === 'show'
        ? await apiRequest(config, 'GET', `/v1/dead-letters/${id}`)
        : await apiRequest(config, 'POST', `/v1/dead-letters/${id}/replay`);
    if (res.status >= 300) return failed(io, config, res.status, res.body);
    io.stdout(action.kind === 'show' ? `${JSON.stringify(res.body, null, 2)}\n` : `replayed ${action.id}\n`);
    return ExitCode.OK;
  } catch (err) {
    if (nothingListens(err)) {
      const code = offline(config, action, io);
      if (code !== undefined) return code;
      // nothing listens and no store: most likely the wrong data dir or API address
      io.stderr(
        `dead-letters: no sidecar answers at ${config.api.listen} and ${config.dataDir} holds no store; ` +
          'point SIDECAR_DATA_DIR (and SIDECAR_LISTEN) at the sidecar you mean, or pass its config file (-c)\n',
      );
      return ExitCode.CONFIG;
    }
    io.stderr(`dead-letters: ${(err as Error).message}\n`);
    return ExitCode.UNREACHABLE;
  }
}

/** The sidecar is not running: answer from its store; undefined when there is none. */
function offline(config: Config, action: DeadLetterAction, io: CliIo): number | undefined {
  let answer: ReturnType<typeof deadLettersOffline>;
  try {
    answer = deadLettersOffline(config, action);
  } catch (err) {
    io.stderr(
      `dead-letters: the sidecar is not running and its store cannot be read: ${(err as Error).message}\n`,
    );
    return ExitCode.FAILURE;
  }
  if (!answer) return undefined;
  io.stderr(`dead-letters: the sidecar is not running; read from the store in ${config.dataDir}\n`);
  if (!answer.ok) {
    io.stderr(`dead-letters: ${answer.code}: ${answer.message}\n`);
    return refusalExit(answer.code);
  }
  if (action.kind === 'list') printList(io, answer.body);
  else if (action.kind === 'show') io.stdout(`${JSON.stringify(answer.body, null, 2)}\n`);
  else io.stdout(`queued ${action.id}: replayed when the sidecar starts\n`);
  return ExitCode.OK;
}

function printList(io: CliIo, body: unknown): void {
  const rows = (body as { dead_letters: Row[] }).dead_letters;
  if (rows.length === 0) io.stdout('no dead letters\n');
  for (const r of rows) io.stdout(`${r.id}  ${r.created_at}  ${r.kind.padEnd(8)} ${r.code}  ${r.message}\n`);
}

function failed(io: CliIo, config: Config, status: number, body: unknown): number {
  if (status === 401) {
    // one line that says what to do: "missing or wrong bearer token" alone did not
    io.stderr(`dead-letters: HTTP 401 from the sidecar at ${config.api.listen}: ${tokenHint(config)}\n`);
    return ExitCode.AUTH;
  }
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  io.stderr(`dead-letters: HTTP ${status} ${error?.code ?? ''}: ${error?.message ?? ''}\n`);
  return refusalExit(error?.code);
}

/** Why the API refused this command's token, and where the right one is. */
function tokenHint(config: Config): string {
  if (apiTokenFor(config) === undefined) return noTokenHint(config);
  const from = config.api.token
    ? 'SIDECAR_API_TOKEN (or api.token)'
    : `${join(config.dataDir, API_TOKEN_FILE)}, which another sidecar generated`;
  return (
    `it refused the API token this command took from ${from}; give it the sidecar's own ` +
    'settings: its env file with --env-path, its config file with -c, or its SIDECAR_API_TOKEN and SIDECAR_DATA_DIR'
  );
}

/** The exit code of a refusal with API error `code`, from the API or the store alike. */
function refusalExit(code: string | undefined): number {
  return code === 'unknown_dead_letter' ? ExitCode.NOT_FOUND : ExitCode.FAILURE;
}
