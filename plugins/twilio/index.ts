/**
 * twilio: converts Twilio webhook forwards (passthrough platform `twilio`) into MessageEvents:
 * SMS, MMS and WhatsApp messages, and voice speech/digit input. Delivery status callbacks make no
 * event. The connector verified `X-Twilio-Signature`; this plugin only decodes and maps.
 */

import { z } from 'zod';
import { type ConvertResult, definePlugin } from '../../core/index.js';
import { decodeForm, mediaTypeOf } from './decode-form.js';
import { formToEvent } from './form-to-event.js';

/** No options: the conversion is fixed by the spec. */
const OptionsSchema = z.strictObject({});

export default definePlugin({
  name: 'twilio',
  version: '1.0.0',
  options: OptionsSchema,
  passthrough: {
    platforms: ['twilio'],
    convert(forward, ctx): ConvertResult {
      const decoded = decodeForm(forward.headers, forward.body);
      if (!decoded.ok) {
        // the content type is safe to log; the body may hold personal data and never is
        ctx.log.warn('twilio webhook dropped', {
          reason: 'malformed',
          problem: decoded.problem,
          content_type: mediaTypeOf(forward.headers) ?? null,
          path: forward.path,
        });
        return { events: [], reason: 'malformed' };
      }
      const outcome = formToEvent(decoded.params, forward.profile);
      if ('drop' in outcome) {
        const fields = { reason: outcome.drop, detail: outcome.detail, path: forward.path };
        const benign = outcome.drop === 'status_callback';
        if (benign) ctx.log.debug('twilio status callback ignored', fields);
        else ctx.log.warn('twilio webhook dropped', fields);
        return { events: [], reason: outcome.drop, benign };
      }
      return { events: [{ event: outcome.event }] };
    },
  },
});
