/**
 * One readable line per hop of the demo: who → whom, what, and the detail that matters.
 */
import type { RecordedFrame } from '../dev-connector/index.js';
import type { AgentTurn } from './echo-agent.js';

const MAX = 96;

function clip(s: string): string {
  return s.length > MAX ? `${s.slice(0, MAX - 1)}…` : s;
}

function quote(s: unknown): string {
  return JSON.stringify(clip(String(s ?? '')));
}

/** The fields of any frame the transcript shows (all optional: frames differ by type). */
interface FrameView {
  type?: string;
  platform?: string;
  botId?: string;
  bufferId?: string;
  session_key?: string;
  descriptor?: { platform?: string; supported_ops?: string[] };
  event?: { text?: string; source?: { platform?: string; chat_type?: string } };
  forward?: { platform?: string; method?: string; path?: string };
  action?: { op?: string; chat_id?: string; session_key?: string; content?: string; metadata?: object };
  result?: { success?: boolean; message_id?: string };
}

/** Summarise one frame recorded by the dev connector (`out` = connector → sidecar). */
export function frameLine(rec: RecordedFrame): string {
  const f = rec.frame as FrameView;
  const arrow = rec.dir === 'out' ? 'connector → sidecar  ' : 'sidecar   → connector';
  let detail = '';
  switch (f.type) {
    case 'hello':
      detail = `${f.platform} bot ${f.botId || '(none)'}`;
      break;
    case 'descriptor':
      detail = `${f.descriptor?.platform} ops ${(f.descriptor?.supported_ops ?? []).length}`;
      break;
    case 'inbound':
      detail = `${f.event?.source?.platform} ${f.event?.source?.chat_type} ${quote(f.event?.text)}`;
      break;
    case 'passthrough_forward':
      detail = `${f.forward?.platform} ${f.forward?.method} ${f.forward?.path}${f.bufferId ? ` bufferId ${f.bufferId}` : ''}`;
      break;
    case 'outbound': {
      const a = f.action ?? {};
      const meta =
        a.metadata && Object.keys(a.metadata).length ? ` metadata ${JSON.stringify(a.metadata)}` : '';
      detail = `${a.op} ${a.chat_id ?? a.session_key ?? ''} ${quote(a.content ?? '')}${f.platform ? ` [${f.platform}]` : ''}${meta}`;
      break;
    }
    case 'outbound_result':
      detail = `${f.result?.success ? 'success' : 'failure'}${f.result?.message_id ? ` message_id ${f.result.message_id}` : ''}`;
      break;
    case 'inbound_ack':
      detail = `bufferId ${f.bufferId} (committed to the inbox)`;
      break;
    case 'interrupt':
    case 'interrupt_inbound':
      detail = `session ${f.session_key}`;
      break;
    default:
      detail = '';
  }
  return `  ${arrow}  ${String(f.type).padEnd(19)} ${clip(detail)}`;
}

/** Summarise one delivery and the agent's answer. */
export function turnLines(turn: AgentTurn): string[] {
  const e = turn.envelope;
  const what = e.type === 'interrupt' ? 'interrupt' : quote(e.event?.text);
  const caps = e.capabilities?.length ? ` capabilities ${e.capabilities.join(',')}` : '';
  const lines = [`  sidecar   → agent      ${e.type.padEnd(19)} ${e.id} ${what}${caps} (signature ok)`];
  for (const a of turn.actions) {
    lines.push(`  agent     → sidecar    ${String(a.op).padEnd(19)} ${quote(a.content ?? '')}`);
  }
  return lines;
}
