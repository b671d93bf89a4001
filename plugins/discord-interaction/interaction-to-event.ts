/**
 * Turn one decoded (token-free) Discord interaction into a MessageEvent, or say why there is
 * none (spec/plugins.md, discord-interaction). Pure; never throws on any input shape.
 */
import { asRecord, interactionSource, str, stringsOf } from './interaction-source.js';
import { renderCommand } from './render-options.js';

/** The interaction types of the Discord API. */
const PING = 1;
const APPLICATION_COMMAND = 2;
const MESSAGE_COMPONENT = 3;
const AUTOCOMPLETE = 4;
const MODAL_SUBMIT = 5;
/** Application command types addressed at a user or a message (context-menu commands). */
const CONTEXT_MENU_TYPES: ReadonlySet<unknown> = new Set([2, 3]);

/** `hp1:<prompt_id>:<option_id>`: the custom id the sidecar's `prompt` op gives its buttons. */
const PROMPT_CUSTOM_ID = /^hp1:([A-Za-z0-9_.-]{1,32}):([A-Za-z0-9_.-]{1,32})$/;

/** Why an interaction made no event: `ping`, `autocomplete`, `unsupported_type` or `malformed`. */
export type DropReason = 'ping' | 'autocomplete' | 'unsupported_type' | 'malformed';

/** An event, or a drop with its reason. */
export type InteractionOutcome =
  | { readonly event: Record<string, unknown> }
  | { readonly drop: DropReason; readonly detail: string };

/** Convert `interaction` (token already removed); `profile` is the forward's profile. */
export function interactionToEvent(
  interaction: Record<string, unknown>,
  profile?: string | null,
): InteractionOutcome {
  const data = asRecord(interaction.data);
  let body: Record<string, unknown> | string;
  switch (interaction.type) {
    case PING:
      return { drop: 'ping', detail: 'answered at the connector edge' };
    case AUTOCOMPLETE:
      return { drop: 'autocomplete', detail: 'autocomplete is not a message' };
    case APPLICATION_COMMAND:
      body = commandBody(data);
      break;
    case MESSAGE_COMPONENT:
      body = componentBody(data, asRecord(interaction.message));
      break;
    case MODAL_SUBMIT:
      body = modalBody(data);
      break;
    default:
      return typeof interaction.type === 'number'
        ? { drop: 'unsupported_type', detail: `interaction type ${interaction.type}` }
        : { drop: 'malformed', detail: 'interaction type missing' };
  }
  if (typeof body === 'string') return { drop: 'malformed', detail: body };
  const source = interactionSource(interaction, profile);
  return { event: { ...body, message_id: source.message_id, source } };
}

/** APPLICATION_COMMAND: `/name options…`; context menus: `/name target_id`. */
function commandBody(data: Record<string, unknown>): Record<string, unknown> | string {
  const name = str(data.name);
  if (!name) return 'command without data.name';
  const text = CONTEXT_MENU_TYPES.has(data.type)
    ? [`/${name}`, str(data.target_id) ?? ''].join(' ').trim()
    : renderCommand(name, data.options);
  return { text, message_type: 'command' };
}

/** MESSAGE_COMPONENT: the custom id (+ select values), or a prompt response for `hp1:` ids. */
function componentBody(
  data: Record<string, unknown>,
  message: Record<string, unknown>,
): Record<string, unknown> | string {
  const customId = str(data.custom_id);
  if (!customId) return 'component without data.custom_id';
  const prompt = PROMPT_CUSTOM_ID.exec(customId);
  if (prompt) {
    const [, promptId = '', optionId = ''] = prompt;
    const response: Record<string, unknown> = {
      prompt_id: promptId,
      option_id: optionId,
      prompt_message_id: str(message.id) ?? null,
    };
    const label = buttonLabel(message.components, customId, 0);
    if (label) response.label = label;
    return { text: `/${optionId}`, message_type: 'command', prompt_response: response };
  }
  const values = Array.isArray(data.values) ? stringsOf(data.values) : [];
  return { text: [customId, ...values].join(' ').trim(), message_type: 'text' };
}

/** MODAL_SUBMIT: the custom id, then one `label-or-custom_id: value` line per input. */
function modalBody(data: Record<string, unknown>): Record<string, unknown> | string {
  const customId = str(data.custom_id);
  if (!customId) return 'modal submit without data.custom_id';
  const lines = [customId];
  collectInputs(data.components, lines, 0);
  return { text: lines.join('\n'), message_type: 'text' };
}

/** Nesting bound for component trees (action rows and labels nest one or two levels). */
const MAX_DEPTH = 8;

/**
 * Walk a modal's component tree (action rows, label wrappers) in order and append a line per
 * submitted input: text inputs carry `value`, selects carry `values` (joined with `, `).
 */
function collectInputs(components: unknown, lines: string[], depth: number): void {
  if (!Array.isArray(components) || depth > MAX_DEPTH) return;
  for (const raw of components) {
    const component = asRecord(raw);
    const name = str(component.label) ?? str(component.custom_id);
    if (name && typeof component.value === 'string') lines.push(`${name}: ${component.value}`);
    else if (name && Array.isArray(component.values)) lines.push(`${name}: ${joinValues(component.values)}`);
    collectInputs(component.components, lines, depth + 1);
    if (component.component) collectInputs([component.component], lines, depth + 1);
  }
}

/**
 * A select's values joined with `, ` as `Array.join` does (null and undefined as `''`), skipping
 * values `String()` cannot convert.
 */
function joinValues(values: readonly unknown[]): string {
  return stringsOf(values.map((v) => v ?? '')).join(', ');
}

/** The label of the button with `customId` in a message's components, when present. */
function buttonLabel(components: unknown, customId: string, depth: number): string | undefined {
  if (!Array.isArray(components) || depth > MAX_DEPTH) return undefined;
  for (const raw of components) {
    const component = asRecord(raw);
    if (component.custom_id === customId && str(component.label)) return component.label as string;
    const nested = buttonLabel(component.components, customId, depth + 1);
    if (nested) return nested;
  }
  return undefined;
}
