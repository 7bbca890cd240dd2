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
    const length = times.length;
    let at = length;
    while (at > 0 && times[at - 1]! >= time) at--; // first entry not older than this event
    if (at < length && ranks[at]! >= rank) return; // a later entry dominates it
    let from = at;
    while (from > 0 && ranks[from - 1]! <= rank) from--; // older entries it dominates
    // Replace entries [from, at) by this one, in place (no allocation in the common case from < at).
    const removed = at - from;
    if (removed === 0) {
      times.splice(at, 0, time);
      ranks.splice(at, 0, rank);
      return;
    }
    times[from] = time;
    ranks[from] = rank;
    if (removed > 1) {
      for (let i = at; i < length; i++) {
        times[i - removed + 1] = times[i]!;
        ranks[i - removed + 1] = ranks[i]!;
      }
      times.length = length - removed + 1;
      ranks.length = length - removed + 1;
    }
  }

  /** Registers of the events with time ≥ start, written into `out`. */
  registersSince(start: number, out: Uint8Array): void {
    const allTimes = this.times;
    const allRanks = this.ranks;
    for (let r = 0; r < REGISTERS; r++) {
      const times = allTimes[r]!;
      let i = 0;
      while (i < times.length && times[i]! < start) i++;
      out[r] = i < times.length ? allRanks[r]![i]! : 0;
    }
  }
}
