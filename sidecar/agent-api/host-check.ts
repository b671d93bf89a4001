/**
 * DNS-rebinding guard of the agent API. A web page the operator opens can point a name it owns
 * at 127.0.0.1 and then read the API's answers as its own origin: the token-free routes
 * (`/metrics`, `/readyz`), and the status page if the operator types the token into the Basic
 * prompt the page triggers. Such a request still carries the page's name in `Host`, so on TCP
 * the API answers only requests addressed to a loopback name (127.0.0.0/8, `[::1]`, `localhost`,
 * `*.localhost`) or to a name listed in `api.allowedHosts`. A unix socket is out of a browser's
 * reach and is not checked.
 */
import { isLoopbackHost } from '../../core/config/listen-address.js';

/** The host name of a `Host` header (port and IPv6 brackets removed, lower case), else undefined. */
export function hostNameOf(header: string): string | undefined {
  const text = header.trim().toLowerCase();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    const rest = text.slice(end + 1);
    return end < 0 || (rest !== '' && !/^:\d{1,5}$/.test(rest)) ? undefined : text.slice(1, end);
  }
  const colon = text.indexOf(':');
  if (colon < 0) return text === '' ? undefined : text;
  return /^\d{1,5}$/.test(text.slice(colon + 1)) && colon > 0 ? text.slice(0, colon) : undefined;
}

/**
 * True when a request with this `Host` header may be answered: a loopback name or one of
 * `allowed`. A request without one (HTTP/1.0; node answers 400 to HTTP/1.1 without it) is not
 * from a browser, which always sends it, and passes.
 */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (header === undefined) return true;
  const name = hostNameOf(header);
  if (name === undefined) return false;
  return isLoopbackHost(name) || name.endsWith('.localhost') || allowed.has(name);
}
