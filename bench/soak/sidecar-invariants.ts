/**
 * The invariants of what the sidecar shows of itself at the end of a soak: its dead letters
 * (every poison event once, nothing else; replays honoured), `/v1/status` and `/metrics` in
 * agreement with the store and with what was logged, and the logs of every life (no secret, only
 * documented codes, no bug code, nothing fatal).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SidecarProcess } from '../../test/helpers/sidecar-process.js';
import { repoRoot } from '../lib/paths.js';
import { RAW_TAIL_MARKER } from './bad-input.js';
import { checkBadFrameMetrics, checkBadFramesLogged } from './bad-input-invariants.js';
import { acceptedSeqs, type SoakEvidence } from './delivery-invariants.js';
import { neverDelivered } from './event-generator.js';
import { GATEWAY_ID } from './sidecar-lives.js';
import type { SoakRun } from './soak-run.js';
import { deadLetterRows } from './soak-store.js';

/** Codes docs/errors.md calls a bug: never expected, whatever the faults. */
const BUG_CODES = new Set([
  'CORE_ERR_API_HANDLER_FAILED',
  'CORE_ERR_INTERNAL_THREW',
  'CORE_ERR_ROUTER_HANDLER_FAILED',
]);

/** The sidecar as the checks see it. */
export interface SidecarView {
  /** The running life's API base (none: the store and API checks are skipped). */
  readonly base: string | undefined;
  readonly dataDir: string;
  readonly token: string;
  /** The last life (its log is compared with its metrics). */
  readonly lastLife: SidecarProcess | undefined;
}

/**
 * Check the dead letters, then status and metrics, of the running life. Call right after
 * `checkDelivery`: the dead-letter check reads the ledger as that one did.
 */
export async function checkSidecar(e: SoakEvidence, s: SidecarView): Promise<void> {
  if (!s.base) return;
  checkDeadLetters(e, s.dataDir);
  await checkStatusAndMetrics(e.run, s.base, s);
}

/** 5. dead letters: every poison event ends dead-lettered, nothing else does. */
function checkDeadLetters({ run, events, ledger, replayed }: SoakEvidence, dataDir: string): void {
  const byBuffer = new Map(events.map((e) => [e.bufferId, e]));
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  const acc = acceptedSeqs(ledger);
  // every dead letter, read from the store (the API lists 500 at most); what it shows of one
  // is what the API shows (`GET /v1/dead-letters/{id}` is this row), so the check stands for both
  const rows = deadLetterRows(dataDir);
  run.bump('deadLetters', rows.length);
  const deadSeqs: number[] = [];
  const seqOfId = new Map(ledger.received.map((x) => [x.id, x.seq]));
  for (const row of rows) {
    // a delivery dead letter names its delivery (the id the agent saw); a frame one holds the frame
    const one = row.payload;
    const fromFrame = [...one.matchAll(/(?<!edit of )soak-(\d+)\b/g)].map((m) => Number(m[1]));
    const seqs = new Set(fromFrame);
    const viaId = seqOfId.get(row.id);
    if (viaId !== undefined) seqs.add(viaId);
    // a frame that failed its schema is kept without its body: its bufferId names it
    const buffer = /"bufferId":"([^"]+)"/.exec(one)?.[1];
    const viaBuffer = buffer === undefined ? undefined : byBuffer.get(buffer)?.seq;
    if (viaBuffer !== undefined) seqs.add(viaBuffer);
    if (seqs.size === 0)
      run.violations.push(`dead letter ${row.id} (${row.code}) is no soak event: ${one.slice(0, 300)}`);
    deadSeqs.push(...seqs);
  }
  const deadCount = new Map<number, number>();
  for (const s of deadSeqs) deadCount.set(s, (deadCount.get(s) ?? 0) + 1);
  for (const ev of events.filter((e) => e.poison)) {
    const n = deadCount.get(ev.seq) ?? 0;
    const r = replayed.get(ev.seq);
    if (n > 1) run.violations.push(`poison soak-${ev.seq} (${ev.kind}) is ${n} dead letters`);
    if (r === true) {
      // replayed and forgiven: delivered again under its id and accepted, no longer a dead letter
      if (n > 0) run.violations.push(`soak-${ev.seq}: its dead letter was replayed but is still there`);
      if (!acc.has(ev.seq))
        run.violations.push(`soak-${ev.seq}: its dead letter was replayed but never accepted`);
    } else if (r === false) {
      if (n === 0 && !acc.has(ev.seq))
        run.violations.push(`soak-${ev.seq}: neither a dead letter nor accepted after a replay attempt`);
    } else {
      if (n === 0 && !ev.atRisk)
        run.violations.push(`poison soak-${ev.seq} (${ev.kind}) is not a dead letter`);
      if (acc.has(ev.seq)) run.violations.push(`poison soak-${ev.seq} accepted although never forgiven`);
    }
  }
  for (const ev of events.filter((e) => neverDelivered(e.kind))) {
    const n = deadCount.get(ev.seq) ?? 0;
    if (n !== 1) run.violations.push(`soak-${ev.seq}: a buffered ${ev.kind} is ${n} dead letters, not 1`);
  }
  for (const s of deadCount.keys()) {
    const ev = bySeq.get(s);
    if (!ev?.poison && !(ev && neverDelivered(ev.kind)))
      run.violations.push(`soak-${s} dead-lettered but the agent never rejected it`);
  }
}

/** 6. `/v1/status` agrees with the store, `/metrics` with status and with the last life's log. */
async function checkStatusAndMetrics(run: SoakRun, b: string, s: SidecarView): Promise<void> {
  // the inbox depth metric of this life agrees with /v1/status
  const status = (await (
    await fetch(`${b}/v1/status`, { headers: { authorization: `Bearer ${s.token}` } })
  ).json()) as {
    inbox?: { pending?: number; dead?: number };
  };
  const storeDead = deadLetterRows(s.dataDir).length;
  if (status.inbox?.dead !== storeDead) {
    run.violations.push(
      `/v1/status inbox.dead ${status.inbox?.dead} but the store holds ${storeDead} dead letters`,
    );
  }
  // every code the last life logged is counted in relay_errors_total at least as often
  const logged = new Map<string, number>();
  for (const line of s.lastLife?.lines ?? []) {
    if (typeof line.code === 'string' && Number(line.level) >= 40)
      logged.set(line.code, (logged.get(line.code) ?? 0) + 1);
  }
  const metrics = await (await fetch(`${b}/metrics`)).text();
  checkBadFrameMetrics(run, s.lastLife, metrics);
  for (const [code, n] of logged) {
    const counted = new RegExp(`^relay_errors_total\\{code="${code}"\\} (\\d+)`, 'm').exec(metrics)?.[1];
    if (Number(counted ?? 0) < n)
      run.violations.push(
        `metrics: ${code} logged ${n}× in the last life, relay_errors_total says ${counted ?? 'nothing'}`,
      );
  }
  const depth = /^relay_inbox_depth(?:\{[^}]*\})? (\S+)$/m.exec(metrics)?.[1];
  if (depth !== undefined && Number(depth) !== (status.inbox?.pending ?? -1)) {
    run.violations.push(
      `metrics: relay_inbox_depth ${depth} but /v1/status inbox.pending ${status.inbox?.pending}`,
    );
  }
}

/** The secrets of a run (none may show in any log line). */
export interface SoakSecrets {
  readonly secret: string;
  readonly token: string;
  readonly interactionTokens: readonly string[];
}

/** 7. the logs of every life: no secret, only documented codes, no bug code, nothing fatal. */
export function checkLogs(run: SoakRun, lives: readonly SidecarProcess[], s: SoakSecrets): void {
  const documented = new Set(
    readFileSync(join(repoRoot(), 'docs', 'errors.md'), 'utf8').match(/CORE_ERR_[A-Z_]+/g) ?? [],
  );
  // an upgrade token is base64url of `<gateway id>:<exp>:<sig>`: the characters that encode
  // whole 3-byte groups of `<gateway id>:` are the same in every token, so they find any of them
  const gatewayPrefix = Buffer.from(`${GATEWAY_ID}:`)
    .toString('base64url')
    .slice(0, Math.floor((GATEWAY_ID.length + 1) / 3) * 4);
  const secrets: [string, string][] = [
    ['relay secret', s.secret],
    ['api token', s.token],
    ['upgrade token', gatewayPrefix],
    // the contract lets a log quote 200 characters of a bad line at most; this comes after them
    ['bad line past its 200th character', RAW_TAIL_MARKER],
    ...s.interactionTokens.map((t): [string, string] => ['interaction token', t]),
  ];
  let lines = 0;
  lives.forEach((life, i) => {
    const text = life.text();
    lines += life.lines.length;
    for (const [what, value] of secrets) {
      if (text.includes(value)) run.violations.push(`log of life ${i + 1} contains the ${what}`);
    }
    const codes = new Map<string, number>();
    for (const line of life.lines) {
      const code = typeof line.code === 'string' ? line.code : undefined;
      if (code) codes.set(code, (codes.get(code) ?? 0) + 1);
      if (code && !documented.has(code))
        run.violations.push(`life ${i + 1} logged ${code}, not in docs/errors.md`);
      if (code === 'CORE_ERR_DELIVERY_ACTION_FAILED' && /\b4\d\d\b/.test(String(line.error))) {
        run.violations.push(
          `life ${i + 1}: a response action was refused: ${String(line.error).slice(0, 200)}`,
        );
      }
      if (code && BUG_CODES.has(code))
        run.violations.push(`life ${i + 1}: ${JSON.stringify(line).slice(0, 400)}`);
      if (Number(line.level) >= 60)
        run.violations.push(`life ${i + 1} logged fatal: ${String(line.msg).slice(0, 200)}`);
      if (Number(line.level) >= 50)
        run.notes.push(`life ${i + 1} error: ${JSON.stringify(line).slice(0, 600)}`);
    }
    for (const [code, n] of codes) run.bump(`codes.${code}`, n);
  });
  run.bump('logLines', lines);
  checkBadFramesLogged(run, lives);
}

/**
 * Count the outbound timeouts the sidecar logged for outbounds the connector did answer
 * (`outboundTimeoutsAnswered`), with a note each. No violation: an answer written to a
 * connection being cut, or late on a loaded machine, times out rightly; but a cluster right
 * after a `sidecar-freeze` would be a deadline that fired before reading what arrived.
 */
export function countAnsweredTimeouts(
  run: SoakRun,
  lives: readonly SidecarProcess[],
  unanswered: ReadonlySet<string>,
): void {
  for (const [i, life] of lives.entries()) {
    for (const line of life.withCode('CORE_ERR_OUTBOUND_TIMEOUT')) {
      if (typeof line.requestId !== 'string' || unanswered.has(line.requestId)) continue;
      run.bump('outboundTimeoutsAnswered');
      const at = Date.parse(String(line.time)) - run.t0;
      run.notes.push(`life ${i + 1}: outbound ${line.requestId} timed out at ${at} ms although answered`);
    }
  }
}
