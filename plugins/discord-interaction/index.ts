/**
 * discord-interaction: converts Discord interaction forwards (passthrough platform `discord`)
 * into MessageEvents. The connector verified the signature, answered the 3 s ACK and removed the
 * interaction token; this plugin turns what is left into a message the agent can act on, with the
 * `discord.interaction_token` capability so the agent may answer through `follow_up`.
 */

import { z } from 'zod';
import { type ConvertResult, definePlugin } from '../../core/index.js';
import { decodeInteraction } from './decode-interaction.js';
import { str } from './interaction-source.js';
import { interactionToEvent } from './interaction-to-event.js';

/** The `follow_up` kind every interaction event grants. */
export const INTERACTION_CAPABILITY = 'discord.interaction_token';

/** No options: the conversion is fixed by the spec. */
const OptionsSchema = z.strictObject({});

export default definePlugin({
  name: 'discord-interaction',
  version: '1.0.0',
  options: OptionsSchema,
  passthrough: {
    platforms: ['discord'],
    convert(forward, ctx): ConvertResult {
      const decoded = decodeInteraction(forward.body);
      if (!decoded.ok) {
        ctx.log.warn('discord interaction body dropped', { reason: 'malformed', problem: decoded.problem });
        return { events: [], reason: 'malformed' };
      }
      const interactionId = str(decoded.interaction.id) ?? null;
      if (decoded.tokensRemoved > 0) {
        // the count and the interaction id only: the value itself is gone and never logged
        ctx.log.warn('discord interaction token removed', {
          interaction_id: interactionId,
          removed: decoded.tokensRemoved,
        });
      }
      const outcome = interactionToEvent(decoded.interaction, forward.profile);
      if ('drop' in outcome) {
        const fields = { reason: outcome.drop, detail: outcome.detail, interaction_id: interactionId };
        // PING and autocomplete are normal traffic the edge already answered; the rest is suspect
        const benign = outcome.drop === 'ping' || outcome.drop === 'autocomplete';
        if (benign) ctx.log.debug('discord interaction dropped', fields);
        else ctx.log.warn('discord interaction dropped', fields);
        return { events: [], reason: outcome.drop, benign };
      }
      return { events: [{ event: outcome.event, capabilities: [INTERACTION_CAPABILITY] }] };
    },
  },
});
