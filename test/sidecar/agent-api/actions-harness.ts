/** Shared set-up of the POST /v1/actions tests: the shape of an error answer and a valid send action. */

/** The JSON body of an error answer: its stable code, and the zod issues or plugin where they apply. */
export interface ErrorBody {
  error: { code: string; message: string; issues?: { path: (string | number)[] }[]; plugin?: string };
}

/** A valid send action (the defaults left for the server to fill). */
export const SEND = { op: 'send', chat_id: 'C1', content: 'hello' };
