/**
 * The connector process of a benchmark run (forked by the harness, so it does not share an event
 * loop with the agent or the load generator). It runs two real dev connectors on 127.0.0.1:
 * `main`, on a fixed port the sidecar dials (fixed so a restarted connector takes the same
 * address), and `base`, which the bare baselines dial. It keeps every un-acked buffered frame
 * like a durable connector buffer would: `close` hands them back and a new process started with
 * `replay` redelivers them, with their original bufferIds, after the first handshake.
 */
import { DevConnector, type RecordedFrame } from '../../sidecar/dev-connector/index.js';
import { nowUs } from '../lib/clock.js';
import { emitEvent, serveRpc } from '../lib/rpc.js';
import { Blaster, type BlastSpec } from './blaster.js';

type Which = 'main' | 'base';

interface Side {
  readonly dc: DevConnector;
  readonly blaster: Blaster;
  /** Buffered frames not yet acked: bufferId → line. */
  readonly pending: Map<string, string>;
  outboundSeen: number;
  held: (() => void)[];
  /** The last connection whose handshake was reported (one descriptor per identity follows). */
  handshaken: number;
}

const sides = new Map<Which, Side>();

function side(which: Which): Side {
  const s = sides.get(which);
  if (!s) throw new Error(`connector ${which} not started`);
  return s;
}

async function open(which: Which, port: number, secret: string, replay: readonly string[]): Promise<Side> {
  // only `main` is durable: the bare reader never acks, and `base` must not replay to the bare relay
  const durable = which === 'main';
  // a handful of recorded frames is enough: the benchmark reads counts, not the frame log
  const dc = await DevConnector.start({ port, secrets: [secret], maxRecorded: 64 });
  const pending = new Map<string, string>();
  for (const line of replay) {
    const id = /"bufferId":"([^"]+)"/.exec(line)?.[1];
    if (id) pending.set(id, line);
  }
  const s: Side = {
    dc,
    pending,
    outboundSeen: 0,
    held: [],
    handshaken: 0,
    blaster: new Blaster((line, bufferId) => {
      if (bufferId && durable) pending.set(bufferId, line);
      dc.send(line);
    }),
  };
  dc.onFrame((rec) => onFrame(which, s, rec));
  return s;
}

function onFrame(which: Which, s: Side, rec: RecordedFrame): void {
  const type = rec.frame.type;
  if (rec.dir === 'in') {
    if (type === 'inbound_ack') s.pending.delete(String(rec.frame.bufferId));
    else if (type === 'outbound') s.outboundSeen += 1;
    return;
  }
  if (type !== 'descriptor' || rec.conn <= s.handshaken) return;
  s.handshaken = rec.conn;
  // the handshake is complete: tell the harness, then redeliver what was never acked
  emitEvent('ready', { which, conn: rec.conn, atUs: nowUs() });
  const lines = [...s.pending.values()];
  setImmediate(() => {
    for (const line of lines) {
      try {
        s.dc.send(line, { conn: rec.conn });
      } catch {
        return; // that connection is gone already; the next one replays again
      }
    }
  });
}

serveRpc({
  async start(args: { port: number; secret: string; replay?: string[] }) {
    const startedUs = nowUs();
    const main = await open('main', args.port, args.secret, args.replay ?? []);
    const base = await open('base', 0, args.secret, []);
    sides.set('main', main);
    sides.set('base', base);
    return { mainPort: main.dc.port, basePort: base.dc.port, startedUs, listeningUs: nowUs() };
  },
  waitConnected(args: { which: Which; timeoutMs: number }) {
    return side(args.which).dc.waitForConnection(args.timeoutMs);
  },
  blast(args: { which: Which; spec: BlastSpec }) {
    return side(args.which).blaster.run(args.spec);
  },
  credit(args: { which: Which; received: number }) {
    side(args.which).blaster.credit(args.received);
  },
  stopBlast(args: { which: Which }) {
    side(args.which).blaster.stop();
  },
  pending(args: { which: Which }) {
    return side(args.which).pending.size;
  },
  outboundSeen(args: { which: Which }) {
    return side(args.which).outboundSeen;
  },
  hold(args: { which: Which }) {
    const s = side(args.which);
    // answer nothing until `release`: the sidecar keeps each call in flight
    s.dc.setRespond(
      () => new Promise((resolve) => s.held.push(() => resolve({ success: true, message_id: 'held' }))),
    );
  },
  release(args: { which: Which }) {
    const s = side(args.which);
    s.dc.setRespond(undefined);
    const held = s.held.splice(0);
    for (const answer of held) answer();
    return held.length;
  },
  async close() {
    const main = sides.get('main');
    const pending = main ? [...main.pending.values()] : [];
    for (const s of sides.values()) {
      s.blaster.stop();
      await s.dc.close();
    }
    return { pending, nextSeq: main?.blaster.nextSeq ?? 0, closedUs: nowUs() };
  },
});
