/**
 * The rule for `agent.url` (AGENT_URL), checked at load so a bad one stops the start naming the
 * key, before anything opens. Messages never hold the URL's text: it may carry credentials.
 */

const FORM = 'must be an absolute http(s):// URL with a host, e.g. http://127.0.0.1:9000/relay';

/** What is wrong with a push URL, as the message of its config issue, or undefined. */
export function agentUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${FORM} (not an absolute URL)`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `${FORM} (the scheme is ${u.protocol}, not http or https)`;
  if (u.hostname === '') return `${FORM} (no host)`;
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
