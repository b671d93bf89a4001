/**
 * The actions the soak's agent sends out: in a push answer, or posted to `POST /v1/actions`.
 * Each carries a nonce in its content (`act-<n>`) so the checks can count how often it reached
 * the connector, against what the API answered for it.
 */
import type { Seen } from './soak-agents.js';

/** What the API answered to one posted action. */
export interface ActionResult {
  readonly success: boolean | undefined;
  /** HTTP status; 0 when the request failed (the sidecar went away, a timeout). */
  readonly status: number;
  readonly code?: string;
  /** The soak event the action answers. */
  readonly seq?: number;
  readonly op: string;
}

/** Makes actions and posts them; keeps the API's answer to each. */
export class AgentActions {
  /** Action content (`act-<n>`) ⇒ what the API answered. */
  readonly results = new Map<string, ActionResult>();
  private nonce = 0;

  constructor(private readonly token: string) {}

  /** The action answering `seen` (none for anything but a message with a chat). */
  actionsFor(seen: Seen): Record<string, unknown>[] {
    if (!seen.chatId || seen.type !== 'message') return [];
    this.nonce += 1;
    const content = `act-${this.nonce}`;
    // a slash command's session answers by follow_up without naming the kind: the recorded
    // capability must be there once the delivery that carried it reached the agent
    if (seen.capabilities.length > 0 && seen.session) {
      return [{ op: 'follow_up', session_key: seen.session, content, metadata: {} }];
    }
    return [{ op: 'send', chat_id: seen.chatId, content, reply_to: null, metadata: {} }];
  }

  /** Post the action answering `seen` to the sidecar at `base`; never throws. */
  async post(base: string, seen: Seen): Promise<void> {
    const [action] = this.actionsFor(seen);
    if (!action) return;
    const content = String(action.content);
    try {
      const res = await fetch(`${base}/v1/actions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(action),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.json().catch(() => ({}))) as {
        result?: { success?: boolean };
        error?: { code?: string };
      };
      this.results.set(content, {
        success: body.result?.success,
        status: res.status,
        op: String(action.op),
        ...(body.error?.code ? { code: body.error.code } : {}),
        ...(seen.seq !== undefined ? { seq: seen.seq } : {}),
      });
    } catch {
      // the sidecar went away mid-call: the action may or may not have gone out
      this.results.set(content, { success: undefined, status: 0, op: String(action.op) });
    }
  }
}
