/**
 * The `connector-bad-input` fault: for a moment the connector interleaves malformed frames with
 * the good ones (relay-contract.md section 2): a line that is not JSON, JSON that is not an
 * object, a frame of the wrong shape, an unknown or echoed `type`, an `outbound_result` for an id
 * nobody asked for, a buffered `passthrough_forward` whose body its plugin cannot parse, and now
 * and then one message over `relay.maxPayloadBytes` (the sidecar closes with 1009 and dials again,
 * so it counts as a cut of the connection). The promise: the read loop survives each of them,
 * each is logged with a documented code and counted, no good event around them is lost or
 * duplicated, and no raw content past 200 characters reaches a log.
 */
import { forwardFrame } from '../../sidecar/demo/samples.js';
import type { ChaosConnector } from './chaos-connector.js';
import { BOT_IDS, type EventGenerator } from './event-generator.js';
import { type SoakRun, sleep } from './soak-run.js';

/** The soak's `relay.maxPayloadBytes` (small, so an oversized message stays cheap to send). */
export const SOAK_MAX_PAYLOAD = 256 * 1024;

/**
 * A marker put past the 200th character of the bad lines: the contract lets a log quote at most
 * 200 characters of a raw line, so it must never show in one.
 */
export const RAW_TAIL_MARKER = 'soak-raw-tail-never-logged';

/** The kinds of bad line, each with the codes the sidecar must log for it. */
const BAD_LINES = [
  'not-json',
  'not-object',
  'wrong-shape',
  'unknown-type',
  'echoed-type',
  'unknown-result',
] as const;

/** Sends the bad input of the `connector-bad-input` fault. */
export class BadInput {
  constructor(
    private readonly run: SoakRun,
    private readonly connector: ChaosConnector,
    private readonly events: EventGenerator,
  ) {}

  /**
   * A burst of `count` bad frames at random gaps (the event stream goes on meanwhile), one of them
   * oversized when `oversizeAt` falls in range; `cut` wraps the oversized send (a cut of the
   * connection: the live frames behind it may be lost, which the contract allows).
   */
  async burst(
    count: number,
    oversizeAt: number,
    cut: (send: () => Promise<void>) => Promise<void>,
  ): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      await sleep(Math.floor(this.run.rand() * 120));
      if (i === oversizeAt) {
        await cut(async () => this.oversized());
        continue;
      }
      if (this.run.rand() < 0.25) this.badForward();
      else this.badLine(this.run.pick(BAD_LINES));
    }
  }

  /** One bad line of `kind` to the current connection. */
  private badLine(kind: (typeof BAD_LINES)[number]): void {
    const tail = `${'x'.repeat(220)}${RAW_TAIL_MARKER}`;
    const line = {
      'not-json': `{"type":"inbound","event":{"text":"${tail}"`,
      'not-object': JSON.stringify([{ type: 'inbound', tail }]),
      'wrong-shape': JSON.stringify({ type: 'inbound', event: { text: 7, source: [tail] } }),
      'unknown-type': JSON.stringify({ type: 'soak_unknown_type', tail }),
      'echoed-type': JSON.stringify({ type: 'going_idle', tail }),
      'unknown-result': JSON.stringify({
        type: 'outbound_result',
        requestId: Math.floor(this.run.rand() * 2 ** 48)
          .toString(16)
          .padStart(32, 'f'),
        result: { success: true, message_id: 'm-unknown' },
      }),
    }[kind];
    if (this.connector.sendRaw(`${line}\n`)) this.run.bump(`badInput.${kind}`);
  }

  /** A buffered forward whose body fails its plugin's parsing: dead-lettered and acked. */
  private badForward(): void {
    const discord = this.run.rand() < 0.6;
    const body = this.run.pick(['{"type":2,"data":', '["', '"']);
    this.events.emitToDeadLetter('badforward', (marker) => ({
      type: 'passthrough_forward',
      forward: discord
        ? forwardFrame('discord', BOT_IDS.discord, 'application/json', `${body}${marker}`)
        : // a form, but no Twilio message, voice input or status callback
          forwardFrame(
            'twilio',
            'AC0000000000000000000000000000abcd',
            'application/x-www-form-urlencoded',
            `Note=${marker}`,
          ),
    }));
  }

  /** One message over the sidecar's limit (a valid frame but for its size): never parsed. */
  private async oversized(): Promise<void> {
    const text = `${RAW_TAIL_MARKER} ${'o'.repeat(SOAK_MAX_PAYLOAD)}`;
    const frame = { type: 'inbound', event: { text, source: { platform: 'telegram', chat_id: 'tg-1' } } };
    if (this.connector.sendRaw(`${JSON.stringify(frame)}\n`)) this.run.bump('badInput.oversized');
  }
}
