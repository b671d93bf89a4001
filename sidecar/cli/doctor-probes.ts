/**
 * The checks of `relay-sidecar doctor` that run real machinery: the manifest and every enabled
 * plugin loaded through the real plugin host (worker pool included), and a reachability probe of
 * the agent in push mode. Each is bounded and leaves nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { Config } from '../../core/config/schema.js';
import { heldClock } from '../../core/di/clock.js';
import { abortAfter } from '../../core/di/deadline.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log/logger.js';
import { Metrics } from '../../core/metrics/metrics.js';
import { readManifest } from '../../core/plugin-host/manifest.js';
import { PluginHost } from '../../core/plugin-host/plugin-host.js';
import { redactUrl } from '../../core/transport/dial-url.js';
import { basicAuthOf } from '../delivery/push-delivery.js';
import { redirectTarget } from '../delivery/push-response.js';
import { type CheckResult, checkScopeReattacher, fail, ok, warn } from './doctor-checks.js';
import { withCode } from './exit-codes.js';

/** Longest wait for the agent's answer, ms (the doctor's `--timeout-ms` may lower it). */
export const AGENT_PROBE_MAX_MS = 3_000;

/** The manifest, plugin-load and scope-reattacher results (later ones absent when skipped). */
export interface PluginChecks {
  readonly results: readonly CheckResult[];
  /** The ops the enabled plugins define, each with its plugin (none when the plugins did not load). */
  readonly ops: readonly { readonly plugin: string; readonly op: string }[];
}

/**
 * Validate the manifest, then load every enabled plugin in a real (one-thread) pool and close it.
 * The pool's store lives in a throwaway directory, so the doctor never touches the real inbox or
 * store (it may run beside a live sidecar) and leaves nothing behind.
 */
export async function checkPlugins(config: Config, manifestPath: string, log: Logger): Promise<PluginChecks> {
  let entries: { name: string; enabled: boolean }[];
  try {
    entries = readManifest(manifestPath, config.pool.taskTimeoutMs).plugins;
  } catch (err) {
    const fix = `correct ${manifestPath} (or point SIDECAR_PLUGINS at the right file); see docs/plugins.md`;
    return { results: [fail('manifest', codeAndMessage(err), fix)], ops: [] };
  }
  const enabled = entries.filter((e) => e.enabled).map((e) => e.name);
  const manifest = ok('manifest', `${manifestPath}: ${entries.length} plugins, ${enabled.length} enabled`);
  const scope = checkScopeReattacher(entries, manifestPath);
  const scratch = mkdtempSync(join(tmpdir(), 'relay-doctor-'));
  try {
    const probeConfig: Config = {
      ...config,
      dataDir: scratch,
      pool: { ...config.pool, minThreads: 1, maxThreads: 1 },
    };
    const host = await PluginHost.load({ manifestPath, config: probeConfig, log, metrics: new Metrics() });
    const ops = host.plugins
      .filter((p) => p.enabled)
      .flatMap((p) => p.ops.map((op) => ({ plugin: p.name, op })));
    await host.close();
    const detail = enabled.length === 0 ? 'no plugin enabled' : `${enabled.join(', ')} loaded in a worker`;
    return { results: [manifest, ok('plugins', detail), scope], ops };
  } catch (err) {
    const fix =
      "check the named plugin's module path, its definePlugin name and its options (docs/plugins.md)";
    return { results: [manifest, fail('plugins', codeAndMessage(err), fix), scope], ops: [] };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Push mode: the agent URL answers at all (any HTTP status counts: HEAD may be unsupported; a
 * redirect, which push does not follow, is a warning, and so is a 404 to HEAD and OPTIONS both).
 * Only a warning when it does not answer: deliveries wait in the inbox and are retried. The probe
 * uses push delivery's HTTP client (undici), not fetch(), so it reaches what push reaches:
 * fetch() refuses a URL holding credentials and the ports of the fetch standard's "bad ports" list.
 */
export async function checkAgent(config: Config, timeoutMs: number): Promise<CheckResult> {
  const name = 'agent';
  const { mode, url } = config.agent;
  if (mode === 'pull' || !url) {
    return ok(name, `pull mode: the agent reads GET /v1/events from the local API at ${config.api.listen}`);
  }
  const shown = redactUrl(url);
  const ms = Math.min(timeoutMs, AGENT_PROBE_MAX_MS);
  try {
    const head = await probe(url, 'HEAD', ms);
    if (head.status >= 300 && head.status < 400) {
      // push does not follow it either: every delivery would be retried, never delivered
      const to = redirectTarget(head.location, url) ?? 'no Location';
      const fix =
        'push does not follow redirects (deliveries are retried until it stops): set AGENT_URL to the target';
      return warn(name, `push to ${shown}: answered HTTP ${head.status}, a redirect to ${to}`, fix);
    }
    // Express answers HEAD on a POST-only route 404, as it does a path with no route; OPTIONS
    // tells them apart (most frameworks answer it for a route they have). A wrong path costs
    // every delivery: a 404 is a rejection, dead-lettered after agent.maxRejections.
    const options = head.status === 404 ? (await probe(url, 'OPTIONS', ms)).status : undefined;
    if (options === 404) {
      const fix =
        'check the path of AGENT_URL: a delivery answered 404 is rejected, and dead-lettered after agent.maxRejections';
      return warn(
        name,
        `push to ${shown}: answered HTTP 404 to HEAD and OPTIONS (no route at this path?)`,
        fix,
      );
    }
    const andOptions = options === undefined ? '' : ` to HEAD, ${options} to OPTIONS`;
    return ok(name, `push to ${shown}: answered HTTP ${head.status}${andOptions}`);
  } catch (err) {
    const code = causeCode(err);
    const why = isTimeout(err) ? `no answer within ${ms} ms` : `not reachable (${code})`;
    return warn(name, `push to ${shown}: ${why}`, unreachableFix(code));
  }
}

/**
 * One bodiless request to the agent URL, with push delivery's HTTP client (undici) and its Basic
 * auth from credentials in the URL. No redirect is followed, as push follows none.
 */
async function probe(
  url: string,
  method: 'HEAD' | 'OPTIONS',
  ms: number,
): Promise<{ status: number; location: string | undefined }> {
  const target = new URL(url);
  const auth = basicAuthOf(target);
  target.username = '';
  target.password = '';
  // a deadline, not AbortSignal.timeout: a freeze during the probe fired it at the resume before
  // the agent's answer was read, and doctor warned "no answer" for an agent that had answered
  const deadline = abortAfter(heldClock, ms, 'agent probe');
  try {
    const res = await request(target, {
      method,
      headers: auth ? { authorization: auth } : {},
      signal: deadline.signal,
    });
    await res.body.dump();
    const location = res.headers.location;
    return { status: res.statusCode, location: Array.isArray(location) ? location[0] : location };
  } finally {
    deadline.clear();
  }
}

/** TLS codes of a certificate no CA Node trusts has signed (self-signed, a private CA). */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

/**
 * The fix for an agent that did not answer. An https agent whose certificate is refused is up:
 * "start the agent" sent the operator looking in the wrong place.
 */
function unreachableFix(code: string): string {
  if (UNTRUSTED_CERTIFICATE.has(code))
    return "the agent's certificate is not signed by a CA Node trusts: start the sidecar with NODE_EXTRA_CA_CERTS=<PEM file of that CA or certificate> in its environment (Node reads it only at start, not from --env-path); see docs/operations.md";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return "the agent's certificate does not name the host of AGENT_URL: use a host name it holds, or reissue it";
  if (code === 'CERT_HAS_EXPIRED') return "the agent's certificate has expired: renew it";
  return 'start the agent or correct AGENT_URL; until then deliveries wait in the inbox and are retried';
}

/** `CODE: message` on one line, for a RelayError; the first line of anything else. */
export function codeAndMessage(err: unknown): string {
  const text = errorMessage(err)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  // Multi-problem messages ("invalid configuration:\n  a\n  b") become "…: a; b".
  const line = text.length > 1 ? `${text[0]} ${text.slice(1).join('; ')}` : (text[0] ?? 'unknown error');
  return withCode(err, line);
}

function isTimeout(err: unknown): boolean {
  const name = (err as Error)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/** The errno of a failed request (on the error or its `cause`), else the cause's message, else the name. */
function causeCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string; message?: string }; name?: string };
  return e?.cause?.code ?? e?.code ?? e?.cause?.message?.slice(0, 80) ?? e?.name ?? 'error';
}
