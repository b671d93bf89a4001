/**
 * telegram-callback: an example third-party plugin (docs/plugins.md). It converts Telegram
 * `callback_query` webhooks, forwarded by the connector as passthrough platform
 * `telegram-callback`, into MessageEvents, and grants the `telegram.callback_query` capability so
 * the agent can answer the button press with `follow_up`.
 *
 * A published plugin imports the core by package name, exactly like this file does.
 */
import { type ConvertResult, definePlugin } from 'relay-sidecar';
import { z } from 'zod';
import { callbackToEvent } from './callback-to-event.js';

/** The capability a callback grants: the connector can answer the query for the agent. */
export const CALLBACK_CAPABILITY = 'telegram.callback_query';

/** Options of telegram-callback. */
const OptionsSchema = z.strictObject({
  /** Present button data as a command (`/` + data, `message_type "command"`). Default false. */
  dataAsCommand: z.boolean().default(false),
});

export default definePlugin({
  name: 'telegram-callback',
  version: '1.0.0',
  options: OptionsSchema,
  passthrough: {
    platforms: ['telegram-callback'],
    convert(forward, ctx): ConvertResult {
      const outcome = callbackToEvent(forward.body, forward.profile, ctx.options);
      if ('drop' in outcome) {
        // other update types are normal traffic (benign: acked, not dead-lettered)
        const benign = outcome.drop === 'not_a_callback';
        // fixed message, facts as fields; never the body (it holds user data)
        ctx.log.warn('telegram callback dropped', { reason: outcome.drop, detail: outcome.detail });
        return { events: [], reason: outcome.drop, benign };
      }
      return { events: [{ event: outcome.event, capabilities: [CALLBACK_CAPABILITY] }] };
    },
  },
});
