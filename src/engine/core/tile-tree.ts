/**
 * Hierarchical tiles over one numeric column of a timeline, for O(log n) window reads.
 *
 * The column is sorted by (time, seq). Leaves are tiles of BLOCK consecutive events holding a numeric-summary
 * state; each node above merges its two children (tiles of 64, 128, … events). A read of positions [lo, hi)
 * scans the exact edges (< BLOCK events each side) and merges O(log n) tiles between them. Tiles are by
 * position, not by clock time, so a burst of events in one minute costs no more than a quiet month.
 *
 * Appends and late inserts only mark tiles stale (`invalidateFrom`); a read rebuilds what it needs first.
 */
import * as summary from './operators/numeric-summary.js';

export const BLOCK_BITS = 5;
export const BLOCK = 1 << BLOCK_BITS;
/** A range this short is summed directly: no tiles (and no TileTree) needed. */
export const TILE_SCAN_LIMIT = 2 * BLOCK;
const W = summary.WIDTH;
const NO_NODES = new Float64Array(0);

export class TileTree {
  private nodes = NO_NODES; // allocated by the first read that needs tiles
  private capacity = 0; // leaf slots, a power of two
  private validBlocks = 0; // blocks [0, validBlocks) and their ancestors are up to date

  /** Events from `position` on changed (append or insert): their tiles must be rebuilt before use. */
  invalidateFrom(position: number): void {
    const block = position >> BLOCK_BITS;
    if (block < this.validBlocks) this.validBlocks = block;
  }

  /**
   * Summary of positions [lo, hi) into out at offset oo. The column's positions start at `base` in `values`
   * (a shared slab); `n` is the column's length.
   */
  query(
    values: Float64Array,
    base: number,
    n: number,
    lo: number,
    hi: number,
    out: Float64Array,
    oo: number,
  ): void {
    summary.init(out, oo);
    if (hi - lo <= TILE_SCAN_LIMIT) {
      summary.addBatch(out, oo, values, base + lo, base + hi);
      return;
    }
    const firstBlock = (lo + BLOCK - 1) >> BLOCK_BITS;
    const endBlock = hi >> BLOCK_BITS;
    summary.addBatch(out, oo, values, base + lo, base + (firstBlock << BLOCK_BITS));
    summary.addBatch(out, oo, values, base + (endBlock << BLOCK_BITS), base + hi);
    this.ensureBuilt(values, base, n, endBlock);
    const nodes = this.nodes;
    let l = this.capacity + firstBlock;
    let r = this.capacity + endBlock;
    while (l < r) {
      if (l & 1) summary.merge(out, oo, nodes, l++ * W);
      if (r & 1) summary.merge(out, oo, nodes, --r * W);
      l >>= 1;
      r >>= 1;
    }
  }

  private ensureBuilt(values: Float64Array, base: number, n: number, neededBlocks: number): void {
    if (this.validBlocks >= neededBlocks) return;
    const fullBlocks = n >> BLOCK_BITS;
    if (fullBlocks > this.capacity) this.grow(fullBlocks);
    const nodes = this.nodes;
    const cap = this.capacity;
    const from = this.validBlocks;
    for (let b = from; b < cap; b++) {
      const o = (cap + b) * W;
      summary.init(nodes, o);
      if (b < fullBlocks)
        summary.addBatch(nodes, o, values, base + (b << BLOCK_BITS), base + ((b + 1) << BLOCK_BITS));
    }
    // Recompute the ancestors of the rebuilt leaves, level by level.
    let l = (cap + from) >> 1;
    let r = (2 * cap - 1) >> 1;
    while (l >= 1) {
      for (let p = l; p <= r; p++) {
        summary.init(nodes, p * W);
        summary.merge(nodes, p * W, nodes, 2 * p * W);
        summary.merge(nodes, p * W, nodes, (2 * p + 1) * W);
      }
      if (l === 1) break;
      l >>= 1;
      r >>= 1;
    }
    this.validBlocks = fullBlocks;
  }

  private grow(blocks: number): void {
    let cap = Math.max(4, this.capacity);
    while (cap < blocks) cap *= 2;
    this.capacity = cap;
    this.nodes = new Float64Array(2 * cap * W);
    this.validBlocks = 0;
  }
}
