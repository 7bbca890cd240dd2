/**
 * How promptly this machine runs a thread that is ready: the floor under every latency the other suites measure.
 * One thread sleeps 100 µs at a time (as a server between requests does, in epoll_wait) and counts the wake-ups
 * that came over 1 ms late; then one thread spins on the clock and counts the gaps over 1 ms in which it did not
 * run. On a quiet machine both are near zero. On a virtual machine whose idle vCPUs halt (no guest halt polling),
 * a sleeping thread's wake-up waits for the host to run its vCPU again, while a spinning one is rarely held up:
 * the difference between the two is the price of sleeping. BENCH_MACHINE_SECONDS (default 10) each.
 *
 * Metrics: sleeping_stalls_over_1ms_per_s, sleeping_stall_time_share (the share of the time lost in stalls over
 * 1 ms), sleeping_stall_max_ms; the same three for spinning_.
 */
import type { Metrics } from '../run.js';

const SECONDS = Number(process.env.BENCH_MACHINE_SECONDS ?? 10);
const SLEEP_MS = 0.1;
const STALL_MS = 1;

interface Stalls {
  count: number;
  lostMs: number;
  maxMs: number;
}

function record(stalls: Stalls, lateMs: number): void {
  if (lateMs <= STALL_MS) return;
  stalls.count++;
  stalls.lostMs += lateMs;
  stalls.maxMs = Math.max(stalls.maxMs, lateMs);
}

/** Sleeps SLEEP_MS at a time for `seconds`; a stall is a wake-up more than STALL_MS after it was due. */
function sleeping(seconds: number): Stalls {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const stalls: Stalls = { count: 0, lostMs: 0, maxMs: 0 };
  const end = performance.now() + seconds * 1000;
  for (let before = performance.now(); before < end; ) {
    Atomics.wait(cell, 0, 0, SLEEP_MS);
    const now = performance.now();
    record(stalls, now - before - SLEEP_MS);
    before = now;
  }
  return stalls;
}

/** Reads the clock in a loop for `seconds`; a stall is a gap of more than STALL_MS between two readings. */
function spinning(seconds: number): Stalls {
  const stalls: Stalls = { count: 0, lostMs: 0, maxMs: 0 };
  const end = performance.now() + seconds * 1000;
  for (let before = performance.now(); before < end; ) {
    const now = performance.now();
    record(stalls, now - before);
    before = now;
  }
  return stalls;
}

export async function run(log: (line: string) => void): Promise<Metrics> {
  log(`a thread that sleeps ${SLEEP_MS * 1000} µs at a time, for ${SECONDS} s…`);
  const slept = sleeping(SECONDS);
  log(`a thread that spins, for ${SECONDS} s…`);
  const spun = spinning(SECONDS);
  const metrics = (prefix: string, stalls: Stalls): Metrics => ({
    [`${prefix}_stalls_over_1ms_per_s`]: stalls.count / SECONDS,
    [`${prefix}_stall_time_share`]: stalls.lostMs / (SECONDS * 1000),
    [`${prefix}_stall_max_ms`]: stalls.maxMs,
  });
  return { ...metrics('sleeping', slept), ...metrics('spinning', spun) };
}
