/**
 * Exact countDistinct over any window [lo, hi) of a timeline's interned column, without scanning the window.
 *
 * The index covers a prefix [0, linked) of the column: for each position, prevSame links to the previous
 * occurrence of the same value, and a Fenwick tree flags the last occurrence (within the prefix) of every value.
 * Distinct values in [lo, linked) = flags in [lo, linked): O(log n). A read with hi > linked first extends the
 * prefix to hi (each position is linked once), so reads at increasing times (the offline sweep) and reads at the
 * latest events (online) both cost O(log n) amortised. A read with hi < linked walks each value last seen in
 * [hi, linked) back along prevSame, or scans the window, whichever is shorter: O(log n + min(hi - lo,
 * linked - hi)).
 */
import { Fenwick } from './fenwick.js';

/**
 * A window of at most this many events is counted by a scan, without the index: 256 events scan in ~0.7 µs, and
 * an index costs ~2.5 KB of heap per entity (its Map above all). With a limit of 64, reads of the serve benchmark
 * built an index for one customer read in five, and the heap grew by ~130 MB over 360k reads: every scavenge
 * while it grew took ~4 ms instead of ~0.8, and a larger old generation makes every later scavenge longer too.
 */
export const DISTINCT_SCAN_LIMIT = 256;
const EMPTY = new Int32Array(0);

export class DistinctIndex {
  // Nothing is allocated until a read needs the index: most entities' windows are short enough to scan.
  private prevSame = EMPTY;
  private readonly lastPosition = new Map<number, number>();
  private readonly flags = new Fenwick(0);
  /** Positions [0, linked) are in the index. */
  private linked = 0;

  /**
   * Records the id appended at `position` (ids[base + position]); the index extends lazily, at the next read
   * that needs it. The column's positions start at `base` in `ids` (a shared slab).
   */
  append(ids: Int32Array, base: number, position: number): void {
    if (position === this.linked && position < this.flags.capacity)
      this.link(ids[base + position]!, position);
  }

  /** An event was inserted before the end: positions shifted, so the index starts again from 0. */
  invalidate(): void {
    this.linked = 0;
    this.lastPosition.clear();
    this.flags.reset(this.flags.capacity);
  }

  private link(id: number, position: number): void {
    if (id < 0) this.prevSame[position] = -1;
    else {
      const previous = this.lastPosition.get(id);
      if (previous === undefined) this.prevSame[position] = -1;
      else {
        this.prevSame[position] = previous;
        this.flags.add(previous, -1);
      }
      this.flags.add(position, 1);
      this.lastPosition.set(id, position);
    }
    this.linked = position + 1;
  }

  /** Links positions up to `end`, growing (and relinking) when the column outgrew the index. */
  private extend(ids: Int32Array, base: number, capacityHint: number, end: number): void {
    if (end > this.flags.capacity) {
      const capacity = Math.max(16, capacityHint, end);
      const prevSame = new Int32Array(capacity);
      prevSame.set(this.prevSame.subarray(0, this.linked));
      this.prevSame = prevSame;
      const linked = this.linked;
      this.linked = 0;
      this.lastPosition.clear();
      this.flags.reset(capacity);
      for (let i = 0; i < linked; i++) this.link(ids[base + i]!, i);
    }
    for (let i = this.linked; i < end; i++) this.link(ids[base + i]!, i);
  }

  /**
   * Distinct non-null ids in positions [lo, hi) of a column of length n (with room for `capacity`) starting at
   * `base` in `ids`; short windows are counted by `scan`.
   */
  count(
    ids: Int32Array,
    base: number,
    n: number,
    capacity: number,
    lo: number,
    hi: number,
    scan: DistinctScan,
  ): number {
    if (hi <= lo) return 0;
    if (hi > n) throw new RangeError(`window end ${hi} beyond the column's ${n} events`);
    const inside = hi - lo;
    if (hi >= this.linked) {
      if (inside <= DISTINCT_SCAN_LIMIT) return scan.count(ids, base + lo, base + hi);
      this.extend(ids, base, capacity, hi);
      return this.flags.prefix(hi) - this.flags.prefix(lo);
    }
    const end = this.linked;
    if (inside <= DISTINCT_SCAN_LIMIT || inside <= end - hi) return scan.count(ids, base + lo, base + hi);
    let total = this.flags.prefix(end) - this.flags.prefix(lo);
    const prevSame = this.prevSame;
    for (let i = hi; i < end; i++) {
      const id = ids[base + i]!;
      if (id < 0 || this.lastPosition.get(id) !== i) continue;
      let j = prevSame[i]!;
      while (j >= hi) j = prevSame[j]!;
      if (j < lo) total--; // counted by its last occurrence, but absent from [lo, hi)
    }
    return total;
  }
}

/**
 * Counts the distinct non-null ids of a slice by a scan, without hashing: a stamp per id marks the ids seen
 * during the current count, so a count costs one array probe per event and clears nothing.
 */
export class DistinctScan {
  private stamps: Int32Array = new Int32Array(64);
  private stamp = 0;

  count(ids: Int32Array, from: number, to: number): number {
    if (++this.stamp === 0x7fffffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    let stamps = this.stamps;
    let distinct = 0;
    for (let i = from; i < to; i++) {
      const id = ids[i]!;
      if (id < 0) continue;
      if (id >= stamps.length) stamps = this.grow(id);
      if (stamps[id] !== stamp) {
        stamps[id] = stamp;
        distinct++;
      }
    }
    return distinct;
  }

  private grow(id: number): Int32Array {
    let length = this.stamps.length;
    while (length <= id) length *= 2;
    const stamps = new Int32Array(length);
    stamps.set(this.stamps);
    this.stamps = stamps;
    return stamps;
  }
}
