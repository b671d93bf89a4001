/**
 * Property-based fuzzing of the plugin forward path on the real worker pool: the shared fixtures'
 * Discord interactions and Twilio webhooks, mutated (wrong types, prototype keys, deep nesting,
 * long strings, an interaction `token` put anywhere), cut off, or replaced by random bytes, are
 * converted by the built-in plugins in a worker, several at once so they share batches. Every
 * forward gets its own answer: events that pass the MessageEvent schema and then the inbound
 * chain, or a final rejection — never a failure (a built-in plugin must not throw or kill its
 * worker on input), and never the token in an answer, an event or a log line.
 */
import test from 'ava';
import fc from 'fast-check';
import { decodeFrame } from '../../core/protocol/decode.js';
import { MessageEventSchema, type PassthroughForward } from '../../core/protocol/payloads.js';
import { sessionKey } from '../../core/protocol/session-key.js';
import {
  fullEvent,
  hostileValue,
  type Json,
  MARKER,
  type Mutation,
  mutate,
  mutation,
} from '../helpers/json-mutation.js';
import { loadSharedFixture } from '../helpers/shared-fixtures.js';
import { BUILTINS, sharedHost } from './host-harness.js';

const host = sharedHost(BUILTINS, [{ platform: 'discord', botId: '987654321098765432' }]);

type Forward = { platform: string; headers: [string, string][]; bodyB64: string } & Record<string, unknown>;
const samples = (file: string) =>
  loadSharedFixture<{ samples: { forward: Forward }[] }>(file).samples.map((s) => s.forward);
const DISCORD = samples('discord-interactions.json');
const TWILIO = samples('twilio-webhooks.json');
/** The Discord samples whose body is a JSON object (one is deliberately not JSON). */
const INTERACTIONS = DISCORD.flatMap((f) => {
  try {
    return [JSON.parse(Buffer.from(f.bodyB64, 'base64').toString('utf8')) as Record<string, Json>];
  } catch {
    return [];
  }
});

/**
 * The interaction token stand-in, distinct from {@link MARKER}: mutations put MARKER into content
 * the agent is meant to see (a message, an id), the token must never come back.
 */
const TOKEN = 'tok-Zq9TOKENyy';
const b64 = (text: string | Uint8Array) => Buffer.from(text).toString('base64');

/** An interaction token put at a random path (the connector should have removed it). */
const tokenAnywhere: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constant('add' as const),
  path: fc.nat(),
  key: fc.constant('token'),
  value: fc.constant(TOKEN),
});

/** A Discord body: a fixture interaction mutated, its type changed, cut off, or random bytes. */
const discordBody: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...INTERACTIONS),
      fc.array(fc.oneof(mutation, tokenAnywhere), { minLength: 1, maxLength: 4 }),
      fc.option(fc.oneof(fc.integer({ min: -1, max: 7 }), fc.constantFrom<Json>('2', null, 2.5, 1e300))),
    )
    .map(([interaction, ms, type]) => {
      const body = mutate({ ...interaction, token: TOKEN }, ms);
      if (type !== null) body.type = type;
      return b64(JSON.stringify(body));
    }),
  fc.tuple(fc.constantFrom(...DISCORD), fc.nat()).map(([f, cut]) => {
    const text = Buffer.from(f.bodyB64, 'base64').toString('utf8').replace(/^\{/, `{"token":"${TOKEN}",`);
    return b64(text.slice(0, cut % (text.length + 1)));
  }),
  // the values a converter renders into the text: option, select and modal values
  fc.tuple(fc.constantFrom(2, 3, 5), hostileValue, hostileValue).map(([type, a, b]) =>
    b64(
      JSON.stringify({
        id: '1',
        type,
        channel_id: 'c1',
        token: TOKEN,
        data: {
          name: 'cmd',
          custom_id: 'form',
          options: [
            { name: 'o', type: 3, value: a },
            { name: 'g', type: 2, options: [{ name: 'p', type: 4, value: b }] },
          ],
          values: [a, b],
          components: [
            {
              type: 1,
              components: [
                { custom_id: 'i', values: [a] },
                { custom_id: 'j', value: b },
              ],
            },
          ],
        },
      }),
    ),
  ),
  fc.uint8Array({ maxLength: 200 }).map(b64),
);

/** A Twilio body: a fixture form with fields added, removed or changed, or random bytes. */
const twilioBody: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...TWILIO),
      fc.array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom(
              'Body',
              'From',
              'To',
              'NumMedia',
              'MediaUrl0',
              'MediaContentType0',
              'MessageSid',
              'SmsStatus',
              'SpeechResult',
              'WaId',
              '__proto__',
              'constructor',
            ),
            fc.string({ maxLength: 10 }),
          ),
          fc.oneof(
            fc.string({ unit: 'grapheme', maxLength: 30 }),
            fc.constantFrom(
              '99999999999999999999',
              '-1',
              '1e9',
              'NaN',
              '0x10',
              '%ZZ',
              MARKER,
              'x'.repeat(5_000),
            ),
          ),
          fc.constantFrom('set', 'append', 'delete'),
        ),
        { minLength: 1, maxLength: 5 },
      ),
    )
    .map(([f, edits]) => {
      const form = new URLSearchParams(Buffer.from(f.bodyB64, 'base64').toString('utf8'));
      for (const [k, v, op] of edits) {
        if (op === 'delete') form.delete(k);
        else form[op](k, v);
      }
      return b64(form.toString());
    }),
  fc.string({ unit: 'binary', maxLength: 120 }).map((s) => b64(s)),
  fc.uint8Array({ maxLength: 200 }).map(b64),
);

const headers = (f: Forward): fc.Arbitrary<[string, string][]> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(f.headers) },
    fc.constant<[string, string][]>([]),
    fc.string({ maxLength: 40 }).map((ct): [string, string][] => [
      ['content-type', ct],
      ['x-token', TOKEN],
    ]),
  );

const forwardArb: fc.Arbitrary<PassthroughForward> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...DISCORD), discordBody)
    .chain(([f, bodyB64]) =>
      headers(f).map((h) => ({ ...f, headers: h, bodyB64, profile: null }) as PassthroughForward),
    ),
  fc
    .tuple(fc.constantFrom(...TWILIO), twilioBody)
    .chain(([f, bodyB64]) =>
      headers(f).map((h) => ({ ...f, headers: h, bodyB64, profile: null }) as PassthroughForward),
    ),
);

test.serial(
  'mutated forwards on the real pool: events or a final rejection each, no failure, no token',
  async (t) => {
    await fc.assert(
      fc.asyncProperty(fc.array(forwardArb, { minLength: 1, maxLength: 6 }), async (forwards) => {
        const logsBefore = host().rawLogs().length;
        // at once: the forwards share the pool's batches
        const outcomes = await Promise.all(forwards.map((f) => host().host.convertForward(f)));
        for (const outcome of outcomes) {
          if (outcome.kind === 'failed' || outcome.kind === 'disabled') {
            throw new Error(`not a verdict: ${JSON.stringify(outcome).slice(0, 500)}`);
          }
          if (JSON.stringify(outcome).includes(TOKEN)) throw new Error('the token came back in the outcome');
          if (outcome.kind !== 'events') continue;
          for (const { event, capabilities } of outcome.events) {
            const parsed = MessageEventSchema.safeParse(event);
            if (!parsed.success) throw new Error(`invalid event: ${parsed.error.message.slice(0, 300)}`);
            const inbound = await host().host.runInbound({
              event: parsed.data,
              sessionKey: sessionKey(parsed.data.source),
              capabilities,
            });
            if (inbound.kind === 'failed')
              throw new Error(`inbound chain failed: ${JSON.stringify(inbound)}`);
            if (JSON.stringify(inbound).includes(TOKEN))
              throw new Error('the token came back from the chain');
          }
        }
        const logged = host().rawLogs().slice(logsBefore);
        const at = logged.indexOf(TOKEN);
        if (at !== -1)
          throw new Error(`the token was logged: ${logged.slice(Math.max(0, at - 300), at + 50)}`);
        return true;
      }),
      { numRuns: 40 },
    );
    t.false(host().storeBytes().includes(TOKEN));
    t.is(
      host()
        .lines()
        .filter((l) => l.code === 'CORE_ERR_PLUGIN_WORKER_DIED').length,
      0,
    );
  },
);

/** A connector's inbound event with every optional field the contract lists. */
const EVENT = fullEvent({
  platform: 'discord',
  chat_id: 'c1',
  chat_type: 'group',
  user_id: 'u1',
  scope_id: 'g1',
  thread_id: 't1',
  profile: 'reviewer',
});

test.serial(
  'inbound events as a connector may send them, mutated: the inbound chain answers each, never fails',
  async (t) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(mutation, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
        async (mutations) => {
          // only what the read path lets through reaches the plugins
          const events = mutations.flatMap((ms) => {
            const r = decodeFrame(JSON.stringify({ type: 'inbound', event: mutate(EVENT, ms) }));
            return r.ok && r.frame.type === 'inbound' ? [r.frame.event] : [];
          });
          const outcomes = await Promise.all(
            events.map((event) =>
              host().host.runInbound({ event, sessionKey: sessionKey(event.source), capabilities: [] }),
            ),
          );
          for (const outcome of outcomes) {
            if (outcome.kind === 'failed')
              throw new Error(`inbound chain failed: ${JSON.stringify(outcome)}`);
          }
        },
      ),
      { numRuns: 40, includeErrorInReport: true },
    );
    t.is(
      host()
        .lines()
        .filter((l) => l.code === 'CORE_ERR_PLUGIN_WORKER_DIED').length,
      0,
    );
  },
);
