/**
 * Deadlines that wait for an answer (an `outbound_result`, the agent's HTTP response, a pong),
 * made safe against a frozen process (SIGSTOP, a paused container, a VM live-migrated).
 *
 * On resume libuv runs the expired timers before it reads what arrived meanwhile: a stopped
 * `epoll_wait` returns EINTR, libuv finds its timeout spent and goes to the timers phase without
 * polling (measured: a 300 ms timer resumed after 1 s ran with none of the bytes the peer sent
 * during the stop read). A deadline then gives its verdict on an answer that is already in the
 * kernel: the agent is told "timed out" although the result came, or a delivery already
 * answered 2xx is retried (a duplicate).
 *
 * So a deadline defers its verdict to a later turn: a `setImmediate` runs after the next poll
 * phase, which reads every socket the kernel holds input for. Every verdict waits that one turn,
 * since a deadline due in the last second of a freeze fires less than a pause late. A timer that
 * fires {@link PAUSE_DETECT_MS} or more late (the process was stopped, the same threshold as the
 * plugin watchdog's) may wait longer: one poll phase reads what the kernel's receive buffer holds (up to 32 reads of 64 KiB per
 * socket), but not what the peer still had queued behind a full window: a backlog larger than
 * the receive buffer arrives over further turns (measured: 16 MB sent during a stop took nine
 * turns, the first reading 191 KiB). So when the caller can say how much of its input arrived
 * ({@link DeadlineOptions.progress}: bytes read, chunks parsed), the verdict waits while that
 * grows from one turn to the next, at most {@link MAX_SETTLE_TURNS} turns; without it (or for a
 * timer less late), one turn.
 * An answer that is still not in after that is late: after a pause the wait starts its whole time
 * again (the peer may have had the request only at the resume), at most {@link MAX_PAUSES}
 * times; else the deadline fires.
 */
import type { Clock } from './clock.js';

/** How late (ms) a timer must fire to count as a stopped process (or a stalled loop). */
export const PAUSE_DETECT_MS = 1_000;

/**
 * Turns a late verdict waits at most while its input keeps arriving: with up to 2 MiB read per
 * socket and turn, far more than a kernel's receive buffer and the peer's send buffer hold; it
 * bounds the wait under a steady stream.
 */
export const MAX_SETTLE_TURNS = 64;

/** Optional parts of a {@link Deadline}. */
export interface DeadlineOptions {
  /**
   * How much of the awaited input has arrived so far (any count that grows with it): a late
   * verdict waits another turn while it changes. Without it a late verdict waits one turn.
   */
  readonly progress?: () => number;
  /** The monotonic clock, ms; default `performance.now()`. Tests inject one that jumps. */
  readonly now?: () => number;
  /**
   * Whether a wait cut by a pause gets its time again (default true): a timer {@link
   * PAUSE_DETECT_MS} or more late whose answer is still not in after the settle turns starts its
   * whole `ms` again from the resume, at most {@link MAX_PAUSES} times, since the peer may not
   * have had it (a request written only at the resume). False for a bound on the process's own
   * work that counts its time otherwise (pause-meter.ts).
   */
  readonly regrantAfterPause?: boolean;
}

/**
 * Pauses a bound forgives at most: a deadline's regrants, the pause meter's left-out gaps, the
 * plugin watchdog's restarts. A main thread that keeps stalling looks like pause after pause, and
 * every bound must still end.
 */
export const MAX_PAUSES = 3;

/** One armed deadline: `clear()` cancels it, including a verdict being deferred. */
export interface Deadline {
  clear(): void;
}

/**
 * Call `fire` a turn after `ms` (on `clock`'s timer, unref'ed), unless cleared first: only after
 * the input pending when the timer ran was read, and for a timer {@link PAUSE_DETECT_MS} or more
 * late while its `progress` grows (see the file's comment). `fire` runs at most once.
 */
export function armDeadline(
  clock: Clock,
  ms: number,
  fire: () => void,
  options: DeadlineOptions = {},
): Deadline {
  const now = options.now ?? (() => performance.now());
  let dueAt = now() + ms;
  let regrants = options.regrantAfterPause === false ? MAX_PAUSES : 0;
  let done = false;
  let immediate: NodeJS.Immediate | undefined;
  const verdict = () => {
    done = true;
    fire();
  };
  const expired = () => {
    if (done) return;
    // Even a timer less than a pause late waits one turn: one due in the last second of a freeze
    // fired on resume before the answer already in the kernel was read (the chaos soak's freezes:
    // push attempts answered 200 logged "timed out", the agent marked unreachable). A deadline
    // that fires is the exception, so the turn costs nothing on the paths that matter.
    const paused = now() - dueAt >= PAUSE_DETECT_MS;
    const maxTurns = paused ? MAX_SETTLE_TURNS : 1;
    const { progress } = options;
    let seen = progress?.();
    let turns = 0;
    const turn = () => {
      immediate = undefined;
      if (done) return;
      const arrived = progress?.();
      if (arrived !== seen && ++turns < maxTurns) {
        seen = arrived;
        immediate = setImmediate(turn);
        return;
      }
      if (paused && regrants < MAX_PAUSES) {
        // not in after the settle turns: the peer may not have had its time (the request went out
        // only at the resume, and the freeze was charged to it: a retry, "agent unreachable")
        regrants++;
        dueAt = now() + ms;
        timer = clock.setTimeout(expired, ms);
        return;
      }
      verdict();
    };
    immediate = setImmediate(turn);
  };
  let timer = clock.setTimeout(expired, ms);
  return {
    clear() {
      done = true;
      clock.clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      immediate = undefined;
    },
  };
}

/** An {@link AbortSignal} that a {@link Deadline} aborts: `clear()` once the work ended. */
export interface DeadlineSignal extends Deadline {
  readonly signal: AbortSignal;
}

/**
 * A signal aborted (a `TimeoutError` saying `what`) by an {@link armDeadline} of `ms`, where
 * `AbortSignal.timeout` ruled at the resume from a freeze before the answer already in was read,
 * and charged the pause to work a pause cut.
 */
export function abortAfter(clock: Clock, ms: number, what: string): DeadlineSignal {
  const abort = new AbortController();
  const deadline = armDeadline(clock, ms, () =>
    abort.abort(new DOMException(`${what} timed out`, 'TimeoutError')),
  );
  return { signal: abort.signal, clear: () => deadline.clear() };
}
