/**
 * Exact countDistinct over any window [lo, hi) of a timeline's interned column, without scanning the window
 * when it reaches the latest events.
 *
 * For each position, prevSame links to the previous occurrence of the same value, and a Fenwick tree flags the
 * last occurrence of every value. Values occurring in [lo, n) = flags in [lo, n): O(log n). For hi < n, each
 * value whose last occurrence is in [hi, n) is checked by walking its prevSame chain back below hi: O(n - hi).
 * A short or old window is instead scanned: the cost is O(log n + min(hi - lo, n - hi)).
 */
import { Fenwick } from './fenwick.js';

const SCAN_LIMIT = 64;

export class DistinctIndex {
  private prevSame = new Int32Array(16);
  private readonly lastPosition = new Map<number, number>();
  private readonly flags = new Fenwick(16);
  private length = 0;
  private stale = false;

  /** Records ids[position] appended at the end (position === current length). */
  append(ids: Int32Array, position: number): void {
    if (this.stale) return;
    if (position + 1 > this.flags.capacity || position + 1 > this.prevSame.length) {
      this.stale = true; // grown: rebuilt on the next read
      return;
    }
    this.link(ids[position]!, position);
    this.length = position + 1;
  }

  /** An event was inserted before the end: positions shifted, rebuild on the next read. */
  invalidate(): void {
    this.stale = true;
  }

  private link(id: number, position: number): void {
    if (id < 0) {
      this.prevSame[position] = -1;
      return;
    }
    const previous = this.lastPosition.get(id);
    if (previous === undefined) this.prevSame[position] = -1;
    else {
      this.prevSame[position] = previous;
      this.flags.add(previous, -1);
    }
    this.flags.add(position, 1);
    this.lastPosition.set(id, position);
  }

  private rebuild(ids: Int32Array, n: number): void {
    const capacity = Math.max(16, ids.length);
    if (this.prevSame.length < capacity) this.prevSame = new Int32Array(capacity);
    this.flags.reset(capacity);
    this.lastPosition.clear();
    for (let i = 0; i < n; i++) this.link(ids[i]!, i);
    this.length = n;
    this.stale = false;
  }

  /** Distinct non-null ids in positions [lo, hi) of a column of length n. `scratch` is any empty Set to reuse. */
  count(ids: Int32Array, n: number, lo: number, hi: number, scratch: Set<number>): number {
    if (hi <= lo) return 0;
    const inside = hi - lo;
    if (inside <= SCAN_LIMIT || inside <= n - hi) {
      scratch.clear();
      for (let i = lo; i < hi; i++) if (ids[i]! >= 0) scratch.add(ids[i]!);
      const size = scratch.size;
      scratch.clear();
      return size;
    }
    if (this.stale || this.length !== n) this.rebuild(ids, n);
    let total = this.flags.prefix(n) - this.flags.prefix(lo);
    const prevSame = this.prevSame;
    for (let i = hi; i < n; i++) {
      const id = ids[i]!;
      if (id < 0 || this.lastPosition.get(id) !== i) continue;
      let j = prevSame[i]!;
      while (j >= hi) j = prevSame[j]!;
      if (j < lo) total--; // counted by its last occurrence, but absent from [lo, hi)
    }
    return total;
  }
}
