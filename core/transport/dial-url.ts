/**
 * Connector URL normalisation (relay contract section 1): the WebSocket dial URL and the HTTP
 * base of the side routes, both derived from the one configured base URL (`GATEWAY_RELAY_URL`).
 * String surgery on the path only, so credentials, port and query survive byte for byte.
 */
import { RelayError } from '../errors.js';

/** The path suffix every dial URL ends with. */
const RELAY_PATH = '/relay';

/** What a connector base URL must look like: the config schema's message uses it too. */
export const CONNECTOR_URL_FORM =
  'an absolute http(s):// or ws(s):// URL with a host, e.g. https://connector.example';

const EXPECTED = `GATEWAY_RELAY_URL must be ${CONNECTOR_URL_FORM}`;

/** Scheme mapping for the dial URL: http(s) becomes ws(s), ws(s) is kept. */
const TO_WS: Readonly<Record<string, string>> = { http: 'ws', https: 'wss', ws: 'ws', wss: 'wss' };
/** Scheme mapping for side routes: ws(s) becomes http(s), http(s) is kept. */
const TO_HTTP: Readonly<Record<string, string>> = { ws: 'http', wss: 'https', http: 'http', https: 'https' };

/** A URL cut into the parts we rewrite: scheme, `//authority` + path, and `?query` (may be ""). */
interface UrlParts {
  scheme: string;
  path: string;
  authority: string;
  query: string;
}

/**
 * The WebSocket URL to dial: trim; `https`→`wss`, `http`→`ws` (ws/wss kept); strip all trailing
 * `/`; append `/relay` unless the path already ends in `/relay`. Idempotent.
 * @throws RelayError `CORE_ERR_CONFIG_INVALID` when the URL is not http(s)/ws(s) with a host.
 */
export function dialUrl(base: string): string {
  const u = split(base, TO_WS);
  const path = stripSlashes(u.path);
  const relayPath = path.endsWith(RELAY_PATH) ? path : `${path}${RELAY_PATH}`;
  return `${u.scheme}://${u.authority}${relayPath}${u.query}`;
}

/**
 * The HTTP base of the side routes: strip trailing `/`, `ws`→`http`, `wss`→`https`, remove one
 * trailing `/relay`. Accepts a base URL or a dial URL, so `httpBase(dialUrl(x))` works.
 * @throws RelayError `CORE_ERR_CONFIG_INVALID` when the URL is not http(s)/ws(s) with a host.
 */
export function httpBase(url: string): string {
  const u = split(url, TO_HTTP);
  let path = stripSlashes(u.path);
  if (path.endsWith(RELAY_PATH)) path = path.slice(0, -RELAY_PATH.length);
  return `${u.scheme}://${u.authority}${path}${u.query}`;
}

/**
 * The full URL of one side route, e.g. `sideRouteUrl(url, '/relay/enroll')`: the HTTP base with
 * `route` appended to its path, keeping any query after it (plain concatenation would not).
 */
export function sideRouteUrl(url: string, route: string): string {
  const u = split(httpBase(url), TO_HTTP);
  const suffix = route.startsWith('/') ? route : `/${route}`;
  return `${u.scheme}://${u.authority}${u.path}${suffix}${u.query}`;
}

function stripSlashes(path: string): string {
  return path.replace(/\/+$/, '');
}

/**
 * Why `input` cannot be a connector URL (http(s)/ws(s) with a host), or undefined when it can.
 * The one rule: the config schema checks it at load, and the dial and side-route URLs are built
 * by it. The reason names the problem but never echoes the URL: it may carry credentials.
 */
export function connectorUrlProblem(input: string): string | undefined {
  const cut = parseParts(input, TO_WS);
  return 'reason' in cut ? cut.reason : undefined;
}

/** Validate and cut a URL; the scheme is mapped through `schemes` (lowercased first). */
function split(input: string, schemes: Readonly<Record<string, string>>): UrlParts {
  const cut = parseParts(input, schemes);
  if ('reason' in cut) throw invalid(cut.reason);
  return cut;
}

/** {@link split} as a result value: the parts, or the reason the URL is refused. */
function parseParts(input: string, schemes: Readonly<Record<string, string>>): UrlParts | { reason: string } {
  const text = typeof input === 'string' ? input.trim() : '';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/s.exec(text);
  if (!m) return { reason: 'not an absolute URL' };
  const [, rawScheme = '', authority = '', path = '', query = '', fragment] = m;
  const scheme = schemes[rawScheme.toLowerCase()];
  // Name the bad scheme but never echo the URL: it may carry credentials.
  if (!scheme) return { reason: `unsupported scheme "${rawScheme.toLowerCase()}:"` };
  if (fragment !== undefined) return { reason: 'a fragment (#…) is not allowed' };
  // WHATWG parsing would read `https:///x` as host "x"; the authority itself must name a host.
  if (authority.replace(/^.*@/s, '') === '') return { reason: 'missing host' };
  let host: string;
  try {
    host = new URL(`${rawScheme}://${authority}${path}${query}`).hostname;
  } catch {
    return { reason: 'not a parseable URL' };
  }
  if (host === '') return { reason: 'missing host' };
  return { scheme, authority, path, query };
}

function invalid(reason: string): RelayError {
  return new RelayError('CORE_ERR_CONFIG_INVALID', `${EXPECTED} (${reason})`, {
    details: { key: 'GATEWAY_RELAY_URL', reason },
  });
}

/** The URL without credentials or query (either may carry a secret). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '[unparseable]';
  }
}
