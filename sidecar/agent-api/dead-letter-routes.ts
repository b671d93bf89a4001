/**
 * Dead letters over the API: list, inspect and replay what the sidecar could not deliver or
 * process (rejected deliveries, poison and quarantined frames). `relay-sidecar dead-letters`
 * is the CLI face of these routes.
 */
import type { ApiInbox } from './deps.js';
import { apiError, type JsonReply } from './errors.js';
import type { Route } from './routes.js';

/** Most rows one `GET /v1/dead-letters` answers. */
export const MAX_LIST = 500;
/** Rows answered without `?limit=`. */
const DEFAULT_LIST = 50;

/** The dead-letter routes (bearer only). */
export function deadLetterRoutes(inbox: ApiInbox): Route[] {
  const missing = (id: string): JsonReply =>
    apiError('unknown_dead_letter', `no dead letter ${id.slice(0, 100)}`);
  return [
    {
      method: 'GET',
      pattern: '/v1/dead-letters',
      access: 'bearer',
      handle: ({ req }) => {
        const raw = new URL(req.url ?? '/', 'http://x').searchParams.get('limit');
        // refused, not clamped: a caller's typo must not pass for an answer (the CLI checks the same)
        const limit = raw === null ? DEFAULT_LIST : /^\d{1,3}$/.test(raw) ? Number(raw) : 0;
        if (limit < 1 || limit > MAX_LIST) {
          return apiError('invalid_request', `limit must be a whole number from 1 to ${MAX_LIST}`);
        }
        return { status: 200, body: { dead_letters: inbox.deadLetters?.(limit) ?? [] } };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/dead-letters/:id',
      access: 'bearer',
      handle: ({ params }) => {
        const id = params.id ?? '';
        const letter = inbox.deadLetter?.(id);
        return letter ? { status: 200, body: letter } : missing(id);
      },
    },
    {
      method: 'POST',
      pattern: '/v1/dead-letters/:id/replay',
      access: 'bearer',
      handle: ({ params }) => {
        const id = params.id ?? '';
        const outcome = inbox.replay?.(id) ?? 'unknown';
        if (outcome === 'replayed') return { status: 202, body: { replayed: id } };
        if (outcome === 'not_replayable') {
          return apiError(
            'not_replayable',
            `dead letter ${id.slice(0, 100)} has no payload that can run again`,
          );
        }
        return missing(id);
      },
    },
  ];
}
