/**
 * Sliding HyperLogLog (Chabchoub & Hébrail 2010): per register, the "list of future possible maxima": entries
 * (time, rank) in increasing time and strictly decreasing rank. An entry is dropped once a later-or-equal
 * event has a rank at least as high, since it can never again be a window's maximum. The registers of any
 * window [start, +∞) are then each the first entry with time ≥ start: O(registers × short lists), whatever the
 * window's size. Valid for windows that reach the latest event (the timeline checks that); late events insert.
 *
 * Ranks fall strictly along a list, so a list holds at most MAX_RANK entries. The lists live in typed arrays,
 * `slots` entries per register (doubled when one needs more): three buffers per sketch. With a JS array per
 * register, a sketch built by a read was ~2,000 small arrays, ~55 KB of heap that survived two scavenges and
 * stayed in the old generation.
 */
import { PRECISION, REGISTERS, rankOf, registerOf } from './operators/hyperloglog.js';

/** The greatest rank of a 32-bit hash (rankOf). */
const MAX_RANK = 32 - PRECISION + 1;
const FIRST_SLOTS = 4;

export class SlidingHyperLogLog {
  /** Room for this many entries per register. */
  private slots = FIRST_SLOTS;
  private readonly lengths = new Uint8Array(REGISTERS);
  // Register r's entries are [r × slots, r × slots + lengths[r]).
  private times = new Float64Array(REGISTERS * FIRST_SLOTS);
  private ranks = new Uint8Array(REGISTERS * FIRST_SLOTS);

  add(time: number, hash: number): void {
    const register = registerOf(hash);
    const rank = rankOf(hash);
    const length = this.lengths[register]!;
    let first = register * this.slots;
    let times = this.times;
    let ranks = this.ranks;
    let at = length;
    while (at > 0 && times[first + at - 1]! >= time) at--; // [at, length): entries not older than this event
    if (at < length && ranks[first + at]! >= rank) return; // the first of them dominates it
    let to = at;
    while (to < length && times[first + to] === time) to++; // same time, lower rank: dominated by this one
    let from = at;
    while (from > 0 && ranks[first + from - 1]! <= rank) from--; // older entries it dominates
    // Entries [from, to) give way to this one; the rest of the list [to, length) moves to from + 1.
    const newLength = length - (to - from) + 1;
    if (newLength > this.slots) {
      this.grow();
      first = register * this.slots;
      times = this.times;
      ranks = this.ranks;
    }
    // Plain loops, not copyWithin: these moves are a few entries, and the call cost more (a 3,000-event build:
    // 52–74 µs with loops, 175–272 µs with copyWithin).
    const shift = from + 1 - to;
    if (shift > 0) {
      for (let i = first + length - 1; i >= first + to; i--) {
        times[i + shift] = times[i]!;
        ranks[i + shift] = ranks[i]!;
      }
    } else if (shift < 0) {
      for (let i = first + to; i < first + length; i++) {
        times[i + shift] = times[i]!;
        ranks[i + shift] = ranks[i]!;
      }
    }
    times[first + from] = time;
    ranks[first + from] = rank;
    this.lengths[register] = newLength;
  }

  /** Registers of the events with time ≥ start, written into `out`. */
  registersSince(start: number, out: Uint8Array): void {
    const { times, ranks, lengths, slots } = this;
    for (let r = 0, first = 0; r < REGISTERS; r++, first += slots) {
      const end = first + lengths[r]!;
      let i = first;
      while (i < end && times[i]! < start) i++;
      out[r] = i < end ? ranks[i]! : 0;
    }
  }

  /** Twice the room per register (a list never needs more than MAX_RANK). */
  private grow(): void {
    const slots = this.slots;
    const grown = Math.min(2 * slots, MAX_RANK);
    const times = new Float64Array(REGISTERS * grown);
    const ranks = new Uint8Array(REGISTERS * grown);
    for (let r = 0; r < REGISTERS; r++) {
      const length = this.lengths[r]!;
      times.set(this.times.subarray(r * slots, r * slots + length), r * grown);
      ranks.set(this.ranks.subarray(r * slots, r * slots + length), r * grown);
    }
    this.slots = grown;
    this.times = times;
    this.ranks = ranks;
  }
}
