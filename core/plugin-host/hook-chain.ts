/**
 * Running one hook chain (spec/plugins.md, "Isolation"): the code a pool worker executes for a
 * task. Independent of worker_threads so it is tested in-process; the worker supplies a
 * {@link ChainEnv} that loads plugins and marks progress.
 *
 * Every failure becomes a {@link TaskFailure} naming the chain position; nothing is thrown.
 */
import { performance } from 'node:perf_hooks';
import { type ErrorCode, RelayError, toErrorData } from '../errors.js';
import type {
  ChainTask,
  ConvertValue,
  InboundValue,
  OutboundValue,
  TaskFailure,
  TaskReply,
} from '../pool/task-protocol.js';
import type { Action } from '../protocol/actions.js';
import { type MessageEvent, MessageEventSchema } from '../protocol/payloads.js';
import type { PluginContext, PluginDefinition, PluginLog } from './define-plugin.js';
import { HookLogCollector } from './hook-log.js';
import {
  ConvertResultSchema,
  InboundVerdictSchema,
  outboundVerdictSchema,
  summariseIssues,
  toPlainData,
  type VerdictCheck,
} from './hook-results.js';
import { amendedOpProblem, opSchemaVerdict } from './op-schema.js';
import { hookLocation } from './stack-location.js';

/** A loaded plugin as a chain runs it. */
export interface ChainPlugin {
  readonly definition: PluginDefinition;
  /** The hook context for one call, with its own log. */
  context(log: PluginLog): PluginContext;
}

/** What the chain runner needs from its thread. */
export interface ChainEnv {
  /** The plugin at manifest index `index`; rejects with a RelayError (load/options failure). */
  plugin(index: number): Promise<ChainPlugin>;
  /** Called before chain position `position` starts (loading included). */
  enter(position: number): void;
}

/** Longest error message kept from a hook, characters. */
const MAX_ERROR_MESSAGE = 500;

/** Codes of the store's refusals of a write: a hook that lets one through fails with it. */
const STORE_REFUSALS: ReadonlySet<string> = new Set([
  'CORE_ERR_PLUGIN_STORE_KEY_TOO_LARGE',
  'CORE_ERR_PLUGIN_STORE_VALUE_TOO_LARGE',
]);

/** The code a hook's throw fails its chain with: a store refusal keeps its own, all else THREW. */
function thrownCode(err: unknown): ErrorCode {
  return err instanceof RelayError && STORE_REFUSALS.has(err.code) ? err.code : 'CORE_ERR_PLUGIN_THREW';
}

/** Run one chain task; always resolves. */
export async function runChain(task: ChainTask, env: ChainEnv): Promise<TaskReply> {
  const logs = new HookLogCollector();
  const ms: number[] = [];
  const state = { position: 0 };
  try {
    const value = await runKind(task, env, logs, ms, state);
    const drained = logs.drain();
    return drained ? { ok: true, value, logs: drained, ms } : { ok: true, value, ms };
  } catch (err) {
    const failure: TaskFailure = {
      ok: false,
      at: state.position,
      error: toErrorData(err, 'CORE_ERR_PLUGIN_THREW'),
    };
    const drained = logs.drain();
    return drained ? { ...failure, logs: drained } : failure;
  }
}

async function runKind(
  task: ChainTask,
  env: ChainEnv,
  logs: HookLogCollector,
  ms: number[],
  state: { position: number },
): Promise<ConvertValue | InboundValue | OutboundValue> {
  // Calls the hook (or op schema) of chain position `position`, timing it and turning a throw into THREW.
  const step = async <T>(
    position: number,
    call: (p: ChainPlugin, log: PluginLog) => T | Promise<T>,
    what = 'hook',
  ) => {
    state.position = position;
    env.enter(position);
    const plugin = await env.plugin(task.chain[position] as number);
    const started = performance.now();
    try {
      return await call(plugin, logs.forPosition(position));
    } catch (err) {
      throw new RelayError(thrownCode(err), `${what} threw: ${describe(err)}`);
    } finally {
      // added: position 0 of a plugin op runs twice when a hook amended its action (the re-check)
      ms[position] = (ms[position] ?? 0) + performance.now() - started;
    }
  };

  if (task.k === 'convert') {
    const raw = await step(0, (p, log) => {
      const convert = p.definition.passthrough?.convert;
      if (!convert) throw new Error('plugin has no passthrough converter');
      const body = Buffer.from(task.forward.bodyB64, 'base64');
      return convert({ ...task.forward, body }, p.context(log));
    });
    const result = checked(ConvertResultSchema, raw, 'convert');
    const events: { event: MessageEvent; capabilities: string[] }[] = [];
    for (const [i, produced] of result.events.entries()) {
      const parsed = MessageEventSchema.safeParse(produced.event);
      // A converter's verdict on malformed input is "no events"; an event it built that fails the
      // schema is its own defect (garbage out), a failure like any other bad result — never a
      // final verdict on the input. The message names the field (zod path), never its value.
      if (!parsed.success) throw badResult(summariseIssues(parsed.error, 3, `events.${i}.event`));
      events.push({ event: parsed.data, capabilities: produced.capabilities ?? [] });
    }
    return {
      events,
      ...(result.reason === undefined ? {} : { reason: result.reason }),
      ...(result.benign ? { benign: true } : {}),
    };
  }

  if (task.k === 'inbound') {
    let event: MessageEvent = task.input.event;
    let capabilities = [...task.input.capabilities];
    // only what a hook returns is carried: a change made in place to `event` (perhaps a function,
    // which no reply can carry) stays in this worker, and the caller keeps its own copy
    let replaced = false;
    let changed = false;
    for (let position = 0; position < task.chain.length; position++) {
      const raw = await step(position, (p, log) => {
        const hook = p.definition.inbound;
        if (!hook) throw new Error('plugin has no inbound hook');
        return hook({ event, sessionKey: task.input.sessionKey, capabilities }, p.context(log));
      });
      const verdict = checked(InboundVerdictSchema, raw, 'inbound');
      if (!verdict) continue;
      if ('drop' in verdict) return { drop: verdict.drop, at: position };
      if (verdict.event) {
        const parsed = MessageEventSchema.safeParse(verdict.event);
        if (!parsed.success) throw badResult(`event: ${summariseIssues(parsed.error)}`);
        event = parsed.data;
        replaced = true;
        changed = true;
      }
      if (verdict.capabilities) {
        capabilities = [...verdict.capabilities];
        changed = true;
      }
    }
    // the common case: nothing to send back across the thread boundary
    if (!changed) return { unchanged: true };
    return replaced ? { event, capabilities } : { capabilities };
  }

  let { action } = task.input;
  let { platform, botId } = task.input;
  let amendedAt: number | undefined;
  const schema = outboundVerdictSchema(action.op);
  let first = 0;
  let validated: Action | undefined;
  if (task.validate) {
    const { op } = action;
    // a plugin-defined op: its schema is the first step, under its plugin's budget (a refinement
    // that loops is ended like a hook); a zod schema that is async throws here (sync parse)
    const parsed = await step(
      0,
      (p) => {
        const opSchema = p.definition.ops?.[op];
        if (!opSchema) throw new Error(`the plugin no longer defines op "${op}"`);
        return opSchema.safeParse(action);
      },
      'op schema',
    );
    const verdict = opSchemaVerdict(parsed, op);
    if ('invalid' in verdict) return verdict;
    action = verdict.action;
    validated = action;
    first = 1;
  }
  for (let position = first; position < task.chain.length; position++) {
    // each hook gets its own copy, so only a returned action is carried (as for inbound): a change
    // made in place can neither swap the op behind its schema's back nor put a function in the
    // reply, which would fail every chain of the batch
    const current = { action: structuredClone(action), platform, botId };
    const raw = await step(position, (p, log) => {
      const hook = p.definition.outbound?.hook;
      if (!hook) throw new Error('plugin has no outbound hook');
      return hook(current, p.context(log));
    });
    const verdict = checked(schema, raw, 'outbound');
    if (!verdict) continue;
    if ('reject' in verdict) return { reject: verdict.reject, at: position };
    if (verdict.action) {
      action = verdict.action as Action;
      amendedAt = position;
    }
    if (verdict.platform !== undefined) platform = verdict.platform;
    if (verdict.botId !== undefined) botId = verdict.botId;
  }
  if (validated && amendedAt !== undefined) {
    // a plugin op a hook amended is checked against its schema again (scope-reattacher's '*'
    // added metadata that a strict op refuses), under the defining plugin's budget: its code
    const { op } = action;
    const amended = action;
    const before = validated;
    const problem = await step(
      0,
      (p) => {
        const opSchema = p.definition.ops?.[op];
        return opSchema ? amendedOpProblem(opSchema, op, before, amended) : undefined;
      },
      'op schema',
    );
    // blamed on the hook that last amended it, as for a core action (plugin-host.ts, checkAmended)
    state.position = amendedAt;
    if (problem) throw badResult(problem);
  }
  return {
    action,
    ...(platform === undefined ? {} : { platform }),
    ...(botId === undefined ? {} : { botId }),
    // the host checks an amended action against its op's schema, and blames this plugin
    ...(amendedAt === undefined ? {} : { amendedAt }),
  };
}

/** What each hook may return (plugins.md §4), for a bad result whose top level is wrong. */
const SHAPES = {
  convert: 'a converter returns {events: [{event, capabilities?}], reason?, benign?}',
  inbound: "an inbound hook returns nothing, {event?, capabilities?} or {drop: 'reason'}",
  outbound:
    'an outbound hook returns nothing, {action?, platform?, botId?} or {reject: {code, message, status?}}',
} as const;

/** Reduce a hook's value to plain data and validate it; anything else is a bad result. */
function checked<T>(schema: VerdictCheck<T>, raw: unknown, hook: keyof typeof SHAPES): T {
  let plain: unknown;
  try {
    plain = toPlainData(raw);
  } catch (err) {
    // the walk's own throw: where it was raised is the core, not the plugin
    throw badResult(`not plain JSON data: ${describe(err, false)}`);
  }
  const parsed = schema.safeParse(plain);
  if (!parsed.success) {
    const problem = summariseIssues(parsed.error);
    // "(root): Unrecognized key" alone left the author to look up which keys there are
    throw badResult(problem.startsWith('(root)') ? `${problem} (${SHAPES[hook]})` : problem);
  }
  return parsed.data;
}

function badResult(problem: string): RelayError {
  return new RelayError('CORE_ERR_PLUGIN_BAD_RESULT', `hook returned a bad result: ${problem}`);
}

function describe(err: unknown, located = true): string {
  let text: string;
  try {
    text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    // a null-prototype object, a throwing toString or name getter: still the hook's own throw
    text = `a value that cannot be printed (${typeof err})`;
  }
  // where it threw, after the cut message so a long one cannot push it out
  const where = located ? hookLocation(err) : undefined;
  return `${cutAtWord(text)}${where ? ` (at ${where})` : ''}`;
}

/**
 * `text` cut to {@link MAX_ERROR_MESSAGE} before the word the cut falls inside (`…` said instead):
 * a credential cut there left its start, which the main thread's search takes out only at a
 * text's end, and the location follows it.
 */
function cutAtWord(text: string): string {
  if (text.length <= MAX_ERROR_MESSAGE) return text;
  let end = MAX_ERROR_MESSAGE;
  while (end > 0 && !/\s/.test(text.charAt(end))) end--;
  return `${text.slice(0, end)}…`;
}
