/**
 * How a push response is read: the status decides delivered / retry / rejected; a 2xx body may
 * carry `{"actions": [...]}` (serverless style: the agent replies in its response).
 */
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../core/protocol/json-depth.js';
import { redactUrl } from '../../core/transport/dial-url.js';
import type { DeliveryResult } from './delivery-target.js';

/** A response body that could not be used: delivered anyway, the actions ignored. */
export interface BodyProblem {
  readonly reason: string;
}

/**
 * Actions from a 2xx body: `[]` for an empty or non-JSON text body, a problem for a broken one or
 * one nested more than MAX_JSON_DEPTH levels deep.
 */
export function actionsOf(body: string, contentType: string | undefined): readonly unknown[] | BodyProblem {
  const text = body.trim();
  if (text === '') return [];
  // the same bound as the API's bodies: a deeper action would kill the plugin worker it reaches
  if (exceedsJsonDepth(text)) return { reason: `body nested more than ${MAX_JSON_DEPTH} levels deep` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // a plain "ok" from a text endpoint is fine; a broken JSON body is worth a warning
    const saysJson = (contentType ?? '').includes('json') || text.startsWith('{');
    return saysJson ? { reason: 'body is not valid JSON' } : [];
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return [];
  const actions = (parsed as { actions?: unknown }).actions;
  if (actions === undefined || actions === null) return [];
  return Array.isArray(actions) ? actions : { reason: '`actions` is not a list' };
}

/** `Retry-After` (seconds, or an HTTP date) in ms from `now`, or undefined. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Where a 3xx answer's `Location` points, resolved against the push URL `base`, without
 * credentials, query or fragment (it is logged); undefined when there is none to read.
 */
export function redirectTarget(location: string | undefined, base: string): string | undefined {
  if (!location) return undefined;
  try {
    return redactUrl(new URL(location, base).href);
  } catch {
    return undefined;
  }
}

/**
 * The verdict of a non-2xx status: 4xx other than 408/429 is a rejection, anything else a retry.
 * A redirect is not followed (the signed body and Basic auth would go wherever it points): its
 * reason names the target, so the operator sees which AGENT_URL the agent wants.
 */
export function verdictOf(status: number, retryAfter: number | undefined, redirect?: string): DeliveryResult {
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { kind: 'rejected', status };
  const isRedirect = status >= 300 && status < 400 && redirect !== undefined;
  return {
    kind: 'retry',
    reason: isRedirect
      ? `HTTP ${status} redirect to ${redirect} (not followed: set AGENT_URL to it)`
      : `HTTP ${status}`,
    status,
    ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
  };
}
