/**
 * Everything one dial needs, minted fresh each time: the upgrade headers (a new bearer token on
 * every dial, or a one-time warning when dialing unauthenticated), the hellos, and the session.
 * The token lives only in the headers handed to the socket factory; it is never logged.
 */
import type { Config } from '../config/schema.js';
import type { Clock } from '../di/clock.js';
import type { Logger } from '../log/logger.js';
import { reportError } from '../log/report.js';
import type { Metrics } from '../metrics/metrics.js';
import { upgradeToken } from './auth-token.js';
import { redactUrl } from './dial-url.js';
import { helloFrames } from './hello.js';
import { type SessionEvents, type SocketFactory, SocketSession } from './socket-session.js';

/** Dialer collaborators. */
export interface DialerDeps {
  readonly relay: Config['relay'];
  /** The normalised dial URL. */
  readonly url: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly socketFactory: SocketFactory;
}

/** Creates and opens sessions; numbers them for the logs. */
export class SessionDialer {
  private warnedUnauthenticated = false;
  private sessions = 0;

  constructor(private readonly deps: DialerDeps) {}

  /** Upgrade headers for one dial: `Authorization: Bearer <fresh token>` when id and secret are set. */
  headers(): Record<string, string> {
    const { relay, clock, log, metrics } = this.deps;
    if (relay.gatewayId && relay.secret) {
      const token = upgradeToken(relay.gatewayId, relay.secret, clock.now(), relay.tokenTtlS);
      return { Authorization: `Bearer ${token}` };
    }
    if (!this.warnedUnauthenticated) {
      // Dev only: say it once, not on every redial.
      this.warnedUnauthenticated = true;
      // which of the two is missing (names, never values): an empty secret from a failed fetch
      // and a forgotten id read alike without it
      const missing = [
        ...(relay.gatewayId ? [] : ['GATEWAY_RELAY_ID']),
        ...(relay.secret ? [] : ['GATEWAY_RELAY_SECRET']),
      ];
      reportError(log, metrics, 'CORE_ERR_TRANSPORT_UNAUTHENTICATED', 'dialing without authentication', {
        missing,
      });
    }
    return {};
  }

  /** Create and open one session; `events` receives the session so `closed` can name it. */
  open(events: (session: SocketSession) => SessionEvents, failedBefore = 0): SocketSession {
    const { relay, url, log, metrics, clock, socketFactory } = this.deps;
    const headers = this.headers();
    const hellos = helloFrames(relay.identities, relay.commandManifest);
    if (hellos.manifestProblem) {
      reportError(log, metrics, 'CORE_ERR_CONFIG_INVALID', 'command manifest left off the hello', {
        reason: hellos.manifestProblem.slice(0, 200),
      });
    }
    const id = ++this.sessions;
    log.info(
      { session: id, url: redactUrl(url), authenticated: 'Authorization' in headers },
      'relay dialing',
    );
    let session: SocketSession | undefined;
    const sink = (): SessionEvents => events(session as SocketSession);
    session = new SocketSession(
      id,
      {
        url,
        headers,
        secrets: [headers.Authorization?.slice('Bearer '.length) ?? '', relay.secret ?? ''],
        hellos: hellos.frames,
        maxPayloadBytes: relay.maxPayloadBytes,
        maxSendBufferBytes: relay.maxSendBufferBytes,
        handshakeTimeoutMs: relay.handshakeTimeoutMs,
        pingIntervalMs: relay.pingIntervalMs,
        pongTimeoutMs: relay.pongTimeoutMs,
        failedBefore,
      },
      { log, metrics, clock, socketFactory },
      {
        frame: (frame) => sink().frame(frame),
        poison: (info) => sink().poison(info),
        closed: (info) => sink().closed(info),
      },
    );
    session.open();
    return session;
  }
}
