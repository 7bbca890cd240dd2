/**
 * Sliding HyperLogLog (Chabchoub & Hébrail 2010): per register, the "list of future possible maxima": entries
 * (time, rank) in increasing time and strictly decreasing rank. An entry is dropped once a later-or-equal
 * event has a rank at least as high, since it can never again be a window's maximum. The registers of any
 * window [start, +∞) are then each the first entry with time ≥ start: O(registers × short lists), whatever the
 * window's size. Valid for windows that reach the latest event (the timeline checks that); late events insert.
 */
import { REGISTERS, rankOf, registerOf } from './operators/hyperloglog.js';

export class SlidingHyperLogLog {
  private readonly times: number[][] = Array.from({ length: REGISTERS }, () => []);
  private readonly ranks: number[][] = Array.from({ length: REGISTERS }, () => []);

  add(time: number, hash: number): void {
    const register = registerOf(hash);
    const rank = rankOf(hash);
    const times = this.times[register]!;
    const ranks = this.ranks[register]!;
    let at = times.length;
    while (at > 0 && times[at - 1]! >= time) at--; // first entry not older than this event
    if (at < times.length && ranks[at]! >= rank) return; // a later entry dominates it
    let from = at;
    while (from > 0 && ranks[from - 1]! <= rank) from--; // older entries it dominates
    times.splice(from, at - from, time);
    ranks.splice(from, at - from, rank);
  }

  /** Registers of the events with time ≥ start, written into `out`. */
  registersSince(start: number, out: Uint8Array): void {
    for (let r = 0; r < REGISTERS; r++) {
      const times = this.times[r]!;
      let i = 0;
      while (i < times.length && times[i]! < start) i++;
      out[r] = i < times.length ? this.ranks[r]![i]! : 0;
    }
  }
}
