/**
 * The connector check of `relay-sidecar doctor`: one real dial with the real relay client, stopped
 * right after the handshake (or the first failure), and the verdict as a check line. The socket
 * factory is wrapped to see what the client deliberately hides behind its reconnect loop: the
 * close code of the first attempt (4401 = credentials refused) and why a dial never opened.
 */
import { type Config, MAX_TIMER_MS } from '../../core/config/schema.js';
import { type Clock, heldClock, systemClock } from '../../core/di/clock.js';
import { armDeadline } from '../../core/di/deadline.js';
import type { Logger } from '../../core/log/logger.js';
import { Metrics } from '../../core/metrics/metrics.js';
import { redactUrl } from '../../core/transport/dial-url.js';
import { defaultSocketFactory, RelayClient, type SocketFactory } from '../../core/transport/relay-client.js';
import { upgradeStatus } from '../../core/transport/session-types.js';
import { type CheckResult, fail, ok, warn } from './doctor-checks.js';
import { ExitCode } from './exit-codes.js';

/** How one probe dial ended. */
export type DialOutcome =
  | {
      readonly kind: 'ready';
      readonly ms: number;
      readonly platforms: readonly string[];
      /** Ops some descriptor advertises (its effective ops): what op gating lets through. */
      readonly ops: readonly string[];
    }
  | { readonly kind: 'unauthorized'; readonly reason: string }
  | { readonly kind: 'http'; readonly status: number }
  | { readonly kind: 'unreachable'; readonly errno: string }
  | { readonly kind: 'closed'; readonly code: number; readonly reason: string }
  | { readonly kind: 'timeout'; readonly opened: boolean };

/** Inputs of {@link probeConnector}. */
export interface DialProbeOptions {
  /** Configuration with `relay.url` set (and the credentials, when any). */
  readonly config: Config;
  /** Budget of the whole dial, upgrade and descriptor included, ms. */
  readonly timeoutMs: number;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly socketFactory?: SocketFactory;
}

/**
 * The client's own handshake limit: the longest a timer takes ({@link MAX_TIMER_MS}), so that it
 * never decides and the probe's deadline always names the outcome (it stops the client on its
 * verdict).
 * A fixed second behind the probe's was not enough: a stall of a second or more earns the probe's
 * deadline its whole time again (deadline.ts), and the client's timer, on time, then closed the
 * socket first (`closed … 1006` where `no descriptor within N ms` was meant; seen on a loaded CI).
 */
const CLIENT_HANDSHAKE_MS = MAX_TIMER_MS;
const CLOSE_UNAUTHORIZED = 4401;

/** Dial once and stop: resolves with the outcome, never rejects (needs a valid `relay.url`). */
export function probeConnector(opts: DialProbeOptions): Promise<DialOutcome> {
  const started = Date.now();
  const relay = { ...opts.config.relay, handshakeTimeoutMs: CLIENT_HANDSHAKE_MS };
  const config: Config = { ...opts.config, relay };
  const base = opts.socketFactory ?? defaultSocketFactory;
  return new Promise((resolve) => {
    let opened = false;
    let settled = false;
    let lastError: (Error & { code?: string }) | undefined;
    const finish = (outcome: DialOutcome) => {
      if (settled) return;
      settled = true;
      timer.clear();
      clearInterval(poll);
      unsubscribe();
      // Stop before answering: no redial, and the socket closes politely (bounded by the client).
      void client.stop().then(() => resolve(outcome));
    };
    // Only the first socket matters: the client may redial after a failure before we stop it.
    let sockets = 0;
    const observed: SocketFactory = (url, options) => {
      const ws = base(url, options);
      if (++sockets > 1) return ws;
      ws.on('open', () => {
        opened = true;
      });
      ws.on('error', (err) => {
        lastError = err as Error & { code?: string };
      });
      ws.on('close', (code, reason) => {
        const text = reason.toString('utf8');
        if (code === CLOSE_UNAUTHORIZED) finish({ kind: 'unauthorized', reason: text });
        else if (opened) finish({ kind: 'closed', code, reason: text });
        else finish(failedDial(lastError));
      });
      return ws;
    };
    const client = new RelayClient(config, opts.log, new Metrics(), opts.clock ?? systemClock, observed);
    // the first descriptor completes the handshake; one per hello follows, so wait for every
    // fronted platform's (bounded by the same budget) and name the ones that did not come
    const expected = new Set(opts.config.relay.identities.map((i) => i.platform));
    let readyMs: number | undefined;
    let poll: NodeJS.Timeout | undefined;
    const ready = () => {
      const descriptors = client.descriptors();
      const ops = new Set([...descriptors.values()].flatMap((d) => d.effective_ops));
      finish({ kind: 'ready', ms: readyMs ?? 0, platforms: [...descriptors.keys()], ops: [...ops] });
    };
    const allDescribed = () => [...expected].every((p) => client.descriptors().has(p));
    const unsubscribe = client.onState((state) => {
      if (state !== 'ready' || readyMs !== undefined) return;
      readyMs = Date.now() - started;
      if (allDescribed()) ready();
      else poll = setInterval(() => allDescribed() && ready(), 10);
    });
    // A late timer (a stopped process, a loop stalled by a loaded machine) first reads what
    // arrived meanwhile, as the client's own deadlines do. Not unref'ed: the caller awaits this
    // answer, and it is cleared on every other outcome.
    const timer = armDeadline(heldClock, opts.timeoutMs, () =>
      readyMs === undefined ? finish({ kind: 'timeout', opened }) : ready(),
    );
    try {
      client.start();
    } catch {
      // Only an unusable relay.url throws here; the URL check has already reported why.
      finish({ kind: 'unreachable', errno: 'invalid URL' });
    }
  });
}

/** A dial that never opened: an HTTP answer other than 101, or a network error. */
function failedDial(err: (Error & { code?: string }) | undefined): DialOutcome {
  const status = upgradeStatus(err);
  if (status !== undefined) return { kind: 'http', status };
  return { kind: 'unreachable', errno: err?.code ?? err?.name ?? 'connection failed' };
}

/** Facts the verdict names (never a secret). */
export interface DialContext {
  readonly dial: string;
  readonly gatewayId?: string;
  readonly authenticated: boolean;
  /** An identity token is set: `run` provisions credentials at boot, which this probe does not. */
  readonly selfProvisions?: boolean;
  readonly timeoutMs: number;
  readonly platforms: readonly string[];
}

/**
 * The ops the enabled plugins define against those the connector's descriptors advertise: an op
 * none advertises is never sent (the agent gets 422 `unsupported_op`), though its plugin loaded.
 */
export function checkPluginOps(
  defined: readonly { readonly plugin: string; readonly op: string }[],
  advertised: readonly string[],
): CheckResult {
  const name = 'plugin ops';
  const missing = defined.filter((d) => !advertised.includes(d.op));
  if (missing.length === 0)
    return ok(name, `${defined.map((d) => d.op).join(', ')} advertised by the connector`);
  const listed = missing.map((d) => `${d.op} (${d.plugin})`).join(', ');
  return warn(
    name,
    `no descriptor advertises ${listed}: the agent's actions with ${missing.length === 1 ? 'it' : 'them'} get 422 unsupported_op`,
    "have the connector list the op in its descriptors' supported_ops (the dev connector: `relay-sidecar connector --descriptor-file`, docs/plugins.md §8), or disable the plugin",
  );
}

/** The check line for a probe outcome; 4401 (credentials) is told apart from unreachable. */
export function dialCheck(o: DialOutcome, ctx: DialContext): CheckResult {
  const name = 'connector';
  const where = redactUrl(ctx.dial);
  const enrol = 'run `relay-sidecar enroll` for fresh credentials';
  switch (o.kind) {
    case 'ready': {
      const who = ctx.authenticated ? `as gateway ${ctx.gatewayId}` : 'unauthenticated';
      const plural = o.platforms.length === 1 ? '' : 's';
      const got = o.platforms.length > 0 ? `; descriptor${plural} for ${o.platforms.join(', ')}` : '';
      const missing = [...new Set(ctx.platforms)].filter((p) => !o.platforms.includes(p));
      const shook = `handshake with ${where} ${who} in ${o.ms} ms${got}`;
      if (missing.length === 0) return ok(name, shook);
      // a platform without a descriptor has no op gating of its own: its outbounds use the default's
      return warn(
        name,
        `${shook}, none for ${missing.join(', ')} within ${ctx.timeoutMs} ms`,
        `check that the connector fronts ${missing.join(', ')}, or drop it from GATEWAY_RELAY_PLATFORMS`,
      );
    }
    case 'unauthorized':
      return unauthorized(o.reason, ctx, enrol);
    case 'http':
      return httpRefusal(o.status, where);
    case 'unreachable':
      return fail(
        name,
        `cannot reach ${where} (${o.errno})`,
        'check GATEWAY_RELAY_URL, DNS, proxies and firewalls, and that the connector is running',
        ExitCode.UNREACHABLE,
      );
    case 'closed':
      return fail(
        name,
        `${where} closed the connection before the handshake (code ${o.code}${o.reason ? ` ${clip(o.reason)}` : ''})`,
        `check that the connector fronts ${ctx.platforms.join(', ')} (GATEWAY_RELAY_PLATFORMS)`,
        ExitCode.UNREACHABLE,
      );
    case 'timeout':
      return o.opened
        ? fail(
            name,
            `${where} accepted the dial but sent no descriptor within ${ctx.timeoutMs} ms`,
            `check that the connector fronts ${ctx.platforms.join(', ')} (GATEWAY_RELAY_PLATFORMS), or raise --timeout-ms`,
            ExitCode.UNREACHABLE,
          )
        : fail(
            name,
            `no answer from ${where} within ${ctx.timeoutMs} ms`,
            'check the network path to the connector, or raise --timeout-ms on a slow link',
            ExitCode.UNREACHABLE,
          );
  }
}

function unauthorized(reason: string, ctx: DialContext, enrol: string): CheckResult {
  // the recommended self-provisioning set-up (operations.md): the probe goes out without the
  // credentials `run` obtains at boot, so a connector that requires tokens refuses it, as it should
  if (!ctx.authenticated && ctx.selfProvisions) {
    const detail = `refused the unauthenticated probe dial (4401 ${clip(reason) || 'missing'}), as a connector that requires tokens does: \`run\` self-provisions credentials at boot with the identity token, which doctor does not`;
    const fix =
      'nothing for `run` (its log says when provisioning fails); to test the dial itself, give doctor credentials from `relay-sidecar enroll` (GATEWAY_RELAY_ID and GATEWAY_RELAY_SECRET)';
    return warn('connector', detail, fix);
  }
  if (!ctx.authenticated || reason === 'missing') {
    const fix = `the connector requires an upgrade token: ${enrol}, or set GATEWAY_RELAY_ID and GATEWAY_RELAY_SECRET`;
    return fail('connector', 'refused the unauthenticated dial (4401 missing)', fix, ExitCode.AUTH);
  }
  if (reason === 'expired') {
    const fix = "the token was just minted, so this machine's clock is off: enable NTP and retry";
    return fail('connector', 'refused the upgrade token as expired (4401 expired)', fix, ExitCode.AUTH);
  }
  return fail(
    'connector',
    `refused the credentials of gateway ${ctx.gatewayId} (4401 ${clip(reason) || 'unauthorized'})`,
    `GATEWAY_RELAY_SECRET does not match what the connector issued to this gateway id, or was revoked: ${enrol}`,
    ExitCode.AUTH,
  );
}

function httpRefusal(status: number, where: string): CheckResult {
  const detail = `${where} answered the upgrade with HTTP ${status}`;
  if (status >= 300 && status < 400) {
    const fix =
      'set GATEWAY_RELAY_URL to the final URL (redirects are not followed: the token must not travel)';
    return fail('connector', detail, fix, ExitCode.CONFIG);
  }
  if (status === 401 || status === 403) {
    return fail(
      'connector',
      detail,
      'a proxy in front of the connector refuses the dial; check its access rules',
      ExitCode.AUTH,
    );
  }
  if (status === 400 || status === 404) {
    const fix = 'set GATEWAY_RELAY_URL to the connector base URL (the dial appends /relay)';
    return fail('connector', detail, fix, ExitCode.CONFIG);
  }
  return fail(
    'connector',
    detail,
    'the connector or a proxy is failing; check its health and retry',
    ExitCode.UNREACHABLE,
  );
}

/** A connector-provided close reason, printable and short. */
function clip(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 60);
}
