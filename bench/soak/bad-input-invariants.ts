/**
 * The invariants of the `connector-bad-input` fault (bad-input.ts), read from the sidecar's logs
 * and its `/metrics`: every bad frame of the last life counted in the metric its log line names
 * (`relay_frames_malformed_total`, `relay_frames_ignored_total`, `relay_errors_total`, at every
 * log level, debug included), and each kind of bad frame the connector sent often logged with its
 * documented code at least once over the run. That the read loop survived them is what the
 * delivery checks show (no good event lost or duplicated); that no raw content past 200
 * characters was logged, the log check (`RAW_TAIL_MARKER`).
 */
import type { SidecarProcess } from '../../test/helpers/sidecar-process.js';
import type { SoakRun } from './soak-run.js';

/** What the sidecar logs for each kind of bad frame (code, or fixed message). */
const LOGGED_AS: Record<string, string> = {
  'not-json': 'CORE_ERR_FRAME_NOT_JSON',
  'not-object': 'CORE_ERR_FRAME_NOT_OBJECT',
  'wrong-shape': 'CORE_ERR_FRAME_SCHEMA',
  'unknown-type': 'CORE_ERR_FRAME_UNKNOWN_TYPE',
  'echoed-type': 'CORE_ERR_FRAME_UNKNOWN_TYPE',
  'unknown-result': 'outbound_result for unknown requestId ignored',
  oversized: 'CORE_ERR_FRAME_TOO_LARGE',
};

/** Codes whose every line is also counted in `relay_frames_malformed_total{code}`. */
const MALFORMED = [
  'CORE_ERR_FRAME_NOT_JSON',
  'CORE_ERR_FRAME_NOT_OBJECT',
  'CORE_ERR_FRAME_SCHEMA',
  'CORE_ERR_FRAME_TOO_LARGE',
];

/** How often a kind must have been sent before its absence from every log is a violation. */
const SENT_ENOUGH = 3;

/** The value of one counter series in a Prometheus text, 0 when absent. */
function counter(metrics: string, name: string, label: string, value: string): number {
  const m = new RegExp(`^${name}\\{${label}="${value}"\\} (\\d+)`, 'm').exec(metrics);
  return Number(m?.[1] ?? 0);
}

/** How many lines of `life` carry `codeOrMsg` (as their code, or as their message). */
function linesWith(life: SidecarProcess, codeOrMsg: string): number {
  return life.lines.filter((l) => l.code === codeOrMsg || l.msg === codeOrMsg).length;
}

/** Check the last life's bad-frame lines against its metrics (`metrics`: its `/metrics` text). */
export function checkBadFrameMetrics(run: SoakRun, last: SidecarProcess | undefined, metrics: string): void {
  if (!last) return;
  for (const code of MALFORMED) {
    const n = linesWith(last, code);
    const malformed = counter(metrics, 'relay_frames_malformed_total', 'code', code);
    const errors = counter(metrics, 'relay_errors_total', 'code', code);
    if (malformed < n || errors < n)
      run.violations.push(
        `metrics: ${code} logged ${n}× in the last life, relay_frames_malformed_total ${malformed}, relay_errors_total ${errors}`,
      );
  }
  const unknownType = linesWith(last, 'CORE_ERR_FRAME_UNKNOWN_TYPE');
  if (counter(metrics, 'relay_errors_total', 'code', 'CORE_ERR_FRAME_UNKNOWN_TYPE') < unknownType)
    run.violations.push(`metrics: CORE_ERR_FRAME_UNKNOWN_TYPE logged ${unknownType}× but counted less`);
  const unknownResult = linesWith(last, LOGGED_AS['unknown-result'] as string);
  const ignored = counter(metrics, 'relay_frames_ignored_total', 'reason', 'unknown_request');
  if (ignored < unknownResult)
    run.violations.push(
      `metrics: ${unknownResult} outbound_results for unknown ids logged, relay_frames_ignored_total{reason="unknown_request"} ${ignored}`,
    );
}

/** Each kind of bad frame sent at least {@link SENT_ENOUGH} times was logged at least once. */
export function checkBadFramesLogged(run: SoakRun, lives: readonly SidecarProcess[]): void {
  // unknown types and unknown ids are logged at debug: under a quieter LOG_LEVEL there is no line
  if (!lives.some((life) => life.lines.some((l) => Number(l.level) <= 20))) return;
  for (const [kind, what] of Object.entries(LOGGED_AS)) {
    const sent = run.stats[`badInput.${kind}`] ?? 0;
    const logged = lives.reduce((n, life) => n + linesWith(life, what), 0);
    run.bump(`badInputLogged.${kind}`, logged);
    if (sent >= SENT_ENOUGH && logged === 0)
      run.violations.push(`bad input: ${sent} ${kind} frames sent, none logged (${what})`);
  }
}
