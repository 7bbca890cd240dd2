/**
 * The VM setting that most changes this machine's latency figures (src/monitor/host-latency.ts): how long an idle
 * vCPU polls before it halts. Every suite's results record it (`guest_halt_poll_ns`, where the machine has the
 * haltpoll driver), and BENCH_GUEST_HALT_POLL_NS=<ns> runs a suite with it set (as root), then puts it back.
 */
import { writeFileSync } from 'node:fs';
import {
  GUEST_HALT_POLL_NS_PATH,
  guestHaltPollNs,
  hostLatencyWarnings,
} from '../src/monitor/host-latency.js';

/** Applies BENCH_GUEST_HALT_POLL_NS when it is set; returns what puts the previous value back. */
export function applyGuestHaltPoll(log: (line: string) => void): () => void {
  const wanted = process.env.BENCH_GUEST_HALT_POLL_NS;
  if (wanted === undefined) {
    for (const warning of hostLatencyWarnings()) log(`note: ${warning}`);
    return () => {};
  }
  if (!/^\d+$/.test(wanted))
    throw new Error(`BENCH_GUEST_HALT_POLL_NS must be a number of ns, not "${wanted}"`);
  const previous = guestHaltPollNs();
  if (previous === undefined)
    throw new Error(
      `BENCH_GUEST_HALT_POLL_NS is set, but this machine has no haltpoll cpuidle driver (${GUEST_HALT_POLL_NS_PATH})`,
    );
  const write = (ns: number | string) => {
    try {
      writeFileSync(GUEST_HALT_POLL_NS_PATH, String(ns));
    } catch (error) {
      throw new Error(
        `could not set ${GUEST_HALT_POLL_NS_PATH} (BENCH_GUEST_HALT_POLL_NS needs root): ${(error as Error).message}`,
      );
    }
  };
  write(wanted);
  log(`guest_halt_poll_ns: ${previous} → ${wanted} for this run`);
  const restore = () => write(previous);
  process.once('SIGINT', () => {
    restore();
    process.exit(130);
  });
  return restore;
}

/** The setting as a metric; nothing where the machine has no haltpoll driver. */
export function guestHaltPollMetric(): { guest_halt_poll_ns?: number } {
  const ns = guestHaltPollNs();
  return ns === undefined ? {} : { guest_halt_poll_ns: ns };
}
