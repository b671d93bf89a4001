/**
 * The rule for a URL that is fetched over HTTP: `agent.url` (AGENT_URL; push delivery POSTs to
 * it), `relay.wakeUrl` and `relay.endpoint` (sent to the connector, which calls them). Checked at
 * load, so a bad one stops the start naming the key, before anything opens. Messages never hold
 * the URL's text, nor any part of it but a well-known scheme written out with `://`: it may carry
 * credentials (`user:pass@`, a query token, a token pasted before `://`).
 */

/** What the message says the key takes, with an example of the key's own. */
const form = (example: string) => `must be an absolute http(s):// URL with a host, e.g. ${example}`;

/** A scheme written out, after any leading blanks WHATWG parsing drops. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters WHATWG drops
const SCHEME = /^[\u0000-\u0020]*[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** Schemes a message may name when they are not http(s): a likely mistake, never a credential. */
const NAMED_SCHEMES = new Set([
  'ws:',
  'wss:',
  'ftp:',
  'ftps:',
  'sftp:',
  'ssh:',
  'file:',
  'unix:',
  'tcp:',
  'udp:',
]);

/**
 * What is wrong with an http(s) URL, as the message of its config issue, or undefined.
 * `example` is the key's own example in the message.
 */
export function httpUrlProblem(url: string, example: string): string | undefined {
  // WHATWG parsing reads `admin:pw@host` as the scheme `admin:`, which the message would name,
  // and `http:host` as `http://host`: a scheme is only taken written out with `://`
  if (!SCHEME.test(url)) return `${form(example)} (not an absolute URL)`;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${form(example)} (not an absolute URL)`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    // only a well-known scheme is named: any other written before `://` may be a token pasted
    // there, of any length (`hunter2token://host`)
    const which = NAMED_SCHEMES.has(u.protocol) ? `the scheme is ${u.protocol},` : 'its scheme is';
    return `${form(example)} (${which} not http or https)`;
  }
  if (u.hostname === '') return `${form(example)} (no host)`;
  try {
    // push sends user:pass@ as Basic auth, percent-decoded: a `%` not starting an escape (a
    // password `p%ss`) cannot be decoded, and the start then failed as
    // CORE_ERR_STORE_OPEN_FAILED "cannot open the inbox: URI malformed"
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
  } catch {
    return 'its user or password holds a % that does not start an escape (%XX): write a literal % as %25';
  }
  return undefined;
}

/** What is wrong with a push URL (AGENT_URL), or undefined. */
export function agentUrlProblem(url: string): string | undefined {
  return httpUrlProblem(url, 'http://127.0.0.1:9000/relay');
}

/** A blank (space) or C0 control character, or DEL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it matches
const BLANK_OR_CONTROL = /[\u0000-\u0020\u007f]/;

/**
 * What is wrong with a URL handed to the connector (the wake URL, the gateway endpoint), or
 * undefined. It goes as written, not as parsed here: WHATWG parsing drops blanks around a URL and
 * tabs and newlines in it, and encodes spaces, where the connector's parser need not, so those are
 * refused rather than passed on for the connector to read otherwise.
 */
export function connectorCallbackUrlProblem(url: string, example: string): string | undefined {
  if (BLANK_OR_CONTROL.test(url))
    return `${form(example)} (it holds a blank or control character, and is sent to the connector as written: drop those around it, percent-encode one inside, e.g. %20)`;
  return httpUrlProblem(url, example);
}
