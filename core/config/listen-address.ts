/**
 * The agent API's listen address (`api.listen` / `SIDECAR_LISTEN`): `host:port` (IPv6 in brackets)
 * or `unix:/path`. Pure parsing (the config schema checks the form with it); binding lives in the
 * agent API's server.
 */
import { isIP } from 'node:net';
import { RelayError } from '../errors.js';

/** A parsed listen address. */
export type ListenAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

/** The accepted forms, for messages. */
export const LISTEN_FORM = 'expected host:port, [ipv6]:port or unix:/path';

/** `host:port`, `[::1]:port` or `unix:/path` parsed, or what is wrong with the text. */
function parse(raw: string): ListenAddress | { readonly problem: string } {
  const text = raw.trim();
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '') return { problem: 'unix socket path is empty' };
    return { kind: 'unix', path };
  }
  // an operator's reflex is a URL; the colon of the scheme would otherwise read as an IPv6 host
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return { problem: 'write the address without a scheme' };
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    // IPv6 literal: the port follows the closing bracket
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') return { problem: 'IPv6 host must be [addr]:port' };
    host = text.slice(1, end);
    portText = text.slice(end + 2);
    if (isIP(host) !== 6) return { problem: 'bracketed host is not an IPv6 address' };
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) return { problem: 'missing host or port' };
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return { problem: 'IPv6 hosts must be written in brackets' };
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) {
    return { problem: 'port must be an integer 0-65535' };
  }
  return { kind: 'tcp', host, port: Number(portText) };
}

/** What is wrong with a listen address (the config schema's check), or undefined when it parses. */
export function listenAddressProblem(raw: string): string | undefined {
  const parsed = parse(raw);
  return 'problem' in parsed ? parsed.problem : undefined;
}

/** Parse `host:port`, `[::1]:port` or `unix:/path`. Throws `CORE_ERR_CONFIG_INVALID` naming the key. */
export function parseListenAddress(raw: string): ListenAddress {
  const parsed = parse(raw);
  if (!('problem' in parsed)) return parsed;
  throw new RelayError(
    'CORE_ERR_CONFIG_INVALID',
    `invalid configuration:\n  api.listen (SIDECAR_LISTEN): ${parsed.problem}; ${LISTEN_FORM}`,
    { details: { value: raw } },
  );
}

/** True for hosts only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  // URL.hostname keeps IPv6 brackets (`[::1]`); a listen address does not
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  // IPv4-mapped IPv6 loopback
  return h.startsWith('::ffff:127.');
}

/** The address for logs and errors: `127.0.0.1:7700`, `[::1]:7700`, `unix:/path`. */
export function formatListenAddress(address: ListenAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
