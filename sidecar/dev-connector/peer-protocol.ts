/**
 * How the dev connector answers the sidecar, frame by frame, like a real connector: a descriptor
 * per hello (then the replay of un-acked buffered frames after the first), an outbound_result per
 * outbound, going_idle_ack per going_idle, and forgetting buffered frames once acked.
 */
import type { OutgoingFrame } from '../../core/protocol/frames.js';
import type { ReplayBuffer } from './buffer.js';
import type { Connection } from './connection.js';
import { defaultDescriptor } from './default-descriptor.js';
import type { DescriptorFn, DevConnectorOptions, HelloFrame, OutboundFrame, RespondFn } from './options.js';

const DEFAULT_DESCRIPTOR: DescriptorFn = (hello) => defaultDescriptor(hello.platform);

/** The connector's reactions; the respond and descriptor functions are swappable at runtime. */
export class PeerProtocol {
  private respondFn: RespondFn;
  private descriptorFn: DescriptorFn;
  private outboundCount = 0;

  constructor(
    private readonly buffer: ReplayBuffer,
    private readonly answerGoingIdle: boolean,
    options: Pick<DevConnectorOptions, 'respond' | 'descriptorFor'>,
  ) {
    this.respondFn = options.respond ?? this.defaultRespond;
    this.descriptorFn = options.descriptorFor ?? DEFAULT_DESCRIPTOR;
  }

  /** Replace the outbound responder (undefined restores the default). */
  setRespond(fn: RespondFn | undefined): void {
    this.respondFn = fn ?? this.defaultRespond;
  }

  /** Replace the hello → descriptor function (undefined restores the default). */
  setDescriptorFor(fn: DescriptorFn | undefined): void {
    this.descriptorFn = fn ?? DEFAULT_DESCRIPTOR;
  }

  /** React to one schema-valid frame from the sidecar. */
  dispatch(conn: Connection, frame: OutgoingFrame): void {
    switch (frame.type) {
      case 'hello':
        this.onHello(conn, frame);
        break;
      case 'outbound':
        void this.onOutbound(conn, frame);
        break;
      case 'going_idle':
        if (this.answerGoingIdle) conn.send({ type: 'going_idle_ack' });
        break;
      case 'inbound_ack':
        this.buffer.ack(frame.bufferId);
        break;
      case 'interrupt':
        // Recorded only: a real connector routes it to the instance running that session.
        break;
    }
  }

  private readonly defaultRespond: RespondFn = () => {
    this.outboundCount += 1;
    return { success: true, message_id: `m-${this.outboundCount}` };
  };

  private onHello(conn: Connection, hello: HelloFrame): void {
    const first = !conn.helloSeen;
    conn.helloSeen = true;
    let descriptor: Record<string, unknown> | null;
    try {
      descriptor = this.descriptorFn(hello);
    } catch {
      // A throwing test hook behaves like "never answer": the sidecar's handshake times out.
      descriptor = null;
    }
    if (descriptor === null || descriptor === undefined) return;
    conn.send({ type: 'descriptor', descriptor });
    if (!first) return;
    conn.ready = true;
    // At-least-once: everything not yet acked is redelivered on every new connection.
    for (const pending of this.buffer.frames()) conn.send(pending);
  }

  private async onOutbound(conn: Connection, frame: OutboundFrame): Promise<void> {
    let result: Record<string, unknown> | undefined | null;
    try {
      result = await this.respondFn(frame);
    } catch (err) {
      result = { success: false, error: `dev connector respond failed: ${String(err)}` };
    }
    // undefined ⇒ never answer (outbound timeout tests); the result goes back on the same socket.
    if (result === undefined || result === null) return;
    conn.send({ type: 'outbound_result', requestId: frame.requestId, result });
  }
}
