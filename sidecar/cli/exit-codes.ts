/**
 * Exit codes of `relay-sidecar`: stable, documented, and the same for every command, so scripts
 * and supervisors can branch on them.
 */
import { errorMessage, RelayError } from '../../core/errors.js';

/** Every exit code of the CLI. */
export const ExitCode = {
  /** Success; for `run`, a clean stop after SIGTERM/SIGINT. */
  OK: 0,
  /** An unexpected failure (a bug, or an I/O error outside the cases below); see the message. */
  FAILURE: 1,
  /**
   * Bad configuration or usage: an invalid env variable or config file value, a missing required
   * option, an unknown option, an unusable --env-path. Fix the named key or flag and rerun.
   */
  CONFIG: 2,
  /**
   * The connector revoked this gateway's credentials (two non-`expired` 4401 closes after a
   * handshake). Retrying will not help: enrol again (`relay-sidecar enroll`) or ask the operator.
   */
  REVOKED: 3,
  /**
   * Enrolment or authentication refused: identity token rejected (401), enrolment token invalid,
   * expired or used (403), or another refusal by the connector. Get a new token and rerun.
   */
  AUTH: 4,
  /**
   * The connector could not be reached: DNS, refused connection, timeout, or a 502/503/504 from
   * a proxy in front of it. Check `GATEWAY_RELAY_URL` and the network, then retry.
   */
  UNREACHABLE: 5,
  /**
   * What the command names does not exist: `dead-letters show|replay <id>` of an id that was never
   * dead-lettered or was replayed already. List them (`dead-letters list`) for the ids there are.
   */
  NOT_FOUND: 6,
} as const;

/** One exit code of the CLI. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A few words for each exit code, for `--help` (every code must have them: the type says so). */
const EXIT_CODE_WORDS = {
  OK: 'clean stop',
  FAILURE: 'unexpected failure',
  CONFIG: 'bad configuration or usage',
  REVOKED: 'revoked',
  AUTH: 'auth refused',
  UNREACHABLE: 'unreachable',
  NOT_FOUND: 'no such dead letter',
} satisfies Record<keyof typeof ExitCode, string>;

/** "0 clean stop, 1 unexpected failure, …": every exit code with its words. */
export function exitCodesText(): string {
  return Object.entries(EXIT_CODE_WORDS)
    .map(([name, words]) => `${ExitCode[name as keyof typeof ExitCode]} ${words}`)
    .join(', ');
}

/** HTTP statuses that mean "a proxy could not reach the connector". */
const PROXY_UNREACHABLE = new Set([502, 503, 504]);

/** The exit code for an error thrown by a command (by stable code and details, never by message). */
export function exitCodeFor(err: unknown): ExitCode {
  if (!(err instanceof RelayError)) return ExitCode.FAILURE;
  switch (err.code) {
    case 'CORE_ERR_CONFIG_INVALID':
    case 'CORE_ERR_CONFIG_FILE_UNREADABLE':
    case 'CORE_ERR_CONFIG_BOT_IDS_MALFORMED':
    case 'CORE_ERR_PLUGIN_MANIFEST_INVALID':
    case 'CORE_ERR_PLUGIN_LOAD_FAILED':
    case 'CORE_ERR_PLUGIN_NAME_MISMATCH':
    case 'CORE_ERR_PLUGIN_OPTIONS_INVALID':
    case 'CORE_ERR_PLUGIN_CONFLICT':
    case 'CORE_ERR_API_LISTEN_FAILED':
    case 'CORE_ERR_API_TOKEN_FILE_UNUSABLE':
    case 'CORE_ERR_STORE_OPEN_FAILED':
    case 'CORE_ERR_STORE_SCHEMA_TOO_NEW':
      return ExitCode.CONFIG;
    case 'CORE_ERR_TRANSPORT_REVOKED':
      return ExitCode.REVOKED;
    case 'CORE_ERR_TRANSPORT_UNAUTHORIZED':
      return ExitCode.AUTH;
    case 'CORE_ERR_TRANSPORT_DIAL_FAILED':
    case 'CORE_ERR_TRANSPORT_HANDSHAKE_TIMEOUT':
      return ExitCode.UNREACHABLE;
    case 'CORE_ERR_ENROLL_FAILED':
    case 'CORE_ERR_PROVISION_FAILED':
    case 'CORE_ERR_POLICY_FAILED':
    case 'CORE_ERR_MEDIA_UPLOAD_FAILED':
      return sideRouteExit(err.details);
    default:
      return ExitCode.FAILURE;
  }
}

/** Side-route failures: no answer ⇒ unreachable; bad URL, credential or redirect ⇒ config; else refused. */
function sideRouteExit(details: RelayError['details']): ExitCode {
  const kind = details?.kind;
  if (kind === 'unreachable' || kind === 'timeout') return ExitCode.UNREACHABLE;
  if (kind === 'bad-url' || kind === 'bad-credential' || kind === 'redirect') return ExitCode.CONFIG;
  const status = details?.status;
  if (typeof status === 'number' && PROXY_UNREACHABLE.has(status)) return ExitCode.UNREACHABLE;
  return ExitCode.AUTH;
}

/** `text` (default: the error's message), led by the error's stable code when it has one (`CORE_ERR_…: …`). */
export function withCode(err: unknown, text: string = errorMessage(err)): string {
  return err instanceof RelayError ? `${err.code}: ${text}` : text;
}
