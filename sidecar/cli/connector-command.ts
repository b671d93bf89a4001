/**
 * `relay-sidecar connector`: the loopback dev connector, standalone, for plugin authors. It prints
 * every frame both ways as one line, serves the side routes (enroll, provision, policy, media), and
 * injects frames typed or piped on stdin (one JSON object per line). Stops on SIGINT/SIGTERM, or
 * at the end of stdin with `--exit-on-eof`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { verifyToken } from '../../core/transport/auth-token.js';
import { createSideRoutes, DevConnector, type UpgradeRecord } from '../dev-connector/index.js';
import type { CliIo } from './cli-io.js';
import { DEFAULT_CONNECTOR_PORT } from './commands.js';
import {
  descriptorFromFile,
  descriptorProblem,
  formatFrameLine,
  unknownDescriptorFields,
} from './connector-format.js';
import { readInjections } from './connector-inject.js';
import { ExitCode } from './exit-codes.js';

/** Budget of the shutdown (sockets get 1 s of it to finish their close handshake), ms. */
export const CONNECTOR_CLOSE_BUDGET_MS = 3_000;
/** Hosts `--host` accepts: the dev connector has no TLS and may accept any dial. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

/** Options of `connector` (commander's names). */
export interface ConnectorOptions {
  port?: string | number;
  host?: string;
  /** Upgrade-token secrets; none ⇒ every dial is accepted. */
  secret?: string[];
  descriptorFile?: string;
  /** False with `--no-auto-result`: outbounds get no result unless one is injected. */
  autoResult?: boolean;
  exitOnEof?: boolean;
}

/** What the command reads and how it is told to stop. */
export interface ConnectorDeps {
  /** Frames to inject, one JSON per line. */
  readonly stdin: Readable;
  /** Aborted ⇒ close and resolve (SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
}

/** Run the connector until stopped; resolves with the exit code (never rejects). */
export async function runConnector(
  opts: ConnectorOptions,
  io: CliIo,
  deps: ConnectorDeps,
): Promise<ExitCode> {
  const usage = (message: string) => {
    io.stderr(`connector: ${message}\n`);
    return ExitCode.CONFIG;
  };
  const port = Number(opts.port ?? DEFAULT_CONNECTOR_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) return usage('--port must be 0…65535');
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.has(host)) {
    return usage(
      `--host ${host}: the dev connector listens on loopback only (127.0.0.1); it is not a production connector`,
    );
  }
  let descriptorFor: ReturnType<typeof descriptorFromFile> | undefined;
  if (opts.descriptorFile !== undefined) {
    const path = resolve(io.cwd, opts.descriptorFile);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
      descriptorFor = descriptorFromFile(raw);
    } catch (err) {
      return usage(`--descriptor-file ${path}: ${(err as Error).message.split('\n')[0]}`);
    }
    for (const warning of unknownDescriptorFields(raw as Record<string, unknown>))
      io.stderr(`connector: warning: --descriptor-file: ${warning}\n`);
    const problem = descriptorProblem(descriptorFor({ platform: 'relay' }));
    if (problem)
      io.stderr(
        `connector: warning: the descriptor fails the contract (${problem}); the sidecar will skip it\n`,
      );
  }
  if (deps.signal.aborted) return ExitCode.OK;

  // Secrets issued by enroll/provision join the rotation list, like a real connector's store.
  const secrets = (opts.secret ?? []).filter((s) => s !== '');
  const authenticated = secrets.length > 0;
  let dc: DevConnector | undefined;
  const routes = createSideRoutes({
    onIssue: (_gatewayId, secret) => {
      if (!authenticated) return;
      secrets.push(secret);
      dc?.setSecrets(secrets);
    },
    // Policy and media carry an upgrade token: verified like a dial, or accepted in open mode.
    policyVerify: (token) => !authenticated || verifyToken(token, secrets, Date.now() / 1000).ok,
  });
  try {
    dc = await DevConnector.start({
      port,
      secrets,
      ...(descriptorFor ? { descriptorFor } : {}),
      ...(opts.autoResult === false ? { respond: () => undefined } : {}),
      sideRoutes: (req, res) => {
        const handled = routes.handler(req, res);
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (handled)
          res.on('finish', () => io.stdout(`${clock()} · ${req.method} ${path} → HTTP ${res.statusCode}\n`));
        return handled;
      },
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return usage(`cannot listen on ${host}:${port} (${code ?? (err as Error).message}); pick another --port`);
  }
  const connector = dc;
  io.stdout(banner(connector, secrets.length, opts.autoResult !== false));
  connector.onFrame((rec) => io.stdout(`${formatFrameLine(rec)}\n`));
  connector.onUpgrade((rec) => io.stdout(`${clock()} · ${upgradeLine(rec)}\n`));

  const stopped = new Promise<void>((done) => {
    if (deps.signal.aborted) return done();
    deps.signal.addEventListener('abort', () => done(), { once: true });
    readInjections(deps.stdin, connector, io, () => {
      if (opts.exitOnEof) done();
      else io.stderr('connector: stdin closed; no more injections (Ctrl-C stops the connector)\n');
    });
  });
  await stopped;
  deps.stdin.pause();
  io.stdout(`${clock()} · stopping\n`);
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((done) => {
    timer = setTimeout(done, CONNECTOR_CLOSE_BUDGET_MS);
  });
  await Promise.race([connector.close(), budget]);
  clearTimeout(timer);
  return ExitCode.OK;
}

function banner(dc: DevConnector, secrets: number, autoResult: boolean): string {
  const auth =
    secrets > 0
      ? `upgrade tokens required (${secrets} secret${secrets === 1 ? '' : 's'}; enrolled gateways are added)`
      : 'open: every dial is accepted (pass --secret to require upgrade tokens)';
  const results = autoResult
    ? 'answered automatically with {"success": true, "message_id": "m-<n>"}'
    : 'not answered (--no-auto-result): inject {"type":"outbound_result","requestId":"…","result":{…}}';
  return [
    `relay-sidecar dev connector listening on ${dc.url} (port ${dc.port})`,
    `  sidecar:     GATEWAY_RELAY_URL=${dc.url}`,
    `  auth:        ${auth}`,
    '  side routes: POST /relay/enroll, /relay/provision, /relay/policy, /relay/media',
    `  outbounds:   ${results}`,
    '  inject:      one JSON frame per line on stdin, e.g.',
    '               {"type":"inbound","event":{"text":"hi","source":{"platform":"relay","chat_id":"c1","chat_type":"dm","user_id":"u1"}}}',
    '               prefix "!buffered " (or add "buffered": true) to replay it until the sidecar acks it',
    '  frames:      ← from the sidecar, → to the sidecar; credentials are masked',
    '',
  ].join('\n');
}

function upgradeLine(rec: UpgradeRecord): string {
  if (rec.authorized)
    return `upgrade ${rec.path} accepted${rec.gatewayId ? ` (gateway ${rec.gatewayId})` : ''}`;
  if (rec.status === 101) return `upgrade ${rec.path} refused: close 4401 ${rec.reason ?? ''}`.trimEnd();
  return `upgrade ${rec.path} refused: HTTP ${rec.status} ${rec.reason ?? ''}`.trimEnd();
}

function clock(): string {
  return new Date().toISOString().slice(11, 23);
}
