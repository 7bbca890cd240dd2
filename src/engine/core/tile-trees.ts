/**
 * Hierarchical tiles over the numeric columns of a group's timelines, for O(log n) window reads.
 *
 * A column is sorted by (time, seq). Leaves are tiles of BLOCK consecutive events holding a numeric-summary
 * state; each node above merges its two children (tiles of 64, 128, … events). A read of positions [lo, hi)
 * scans the exact edges (< BLOCK events each side) and merges O(log n) tiles between them. Tiles are by
 * position, not by clock time, so a burst of events in one minute costs no more than a quiet month.
 *
 * Appends and late inserts only mark tiles stale (`invalidateFrom`); a read rebuilds what it needs first.
 *
 * Storage: every tree's nodes are a region of shared chunks (the slab's allocator, slab.ts), and each tree's
 * address, leaf capacity and valid blocks are columns indexed by entity × tree column. No object per tree: a
 * tree built by a read would otherwise be a few JS objects that survive two scavenges, get copied twice, and
 * stay in the old generation, whose every page each scavenge then visits. Measured under the serve benchmark's
 * reads of customers read for the first time: median scavenge pause 1.3 ms with an object per tree, 0.6 ms
 * with no tree built at all (docs/serving.md).
 */

import { doubled } from '../../util/typed-arrays.js';
import * as summary from './operators/numeric-summary.js';
import { type RegionChunk, Regions } from './slab.js';

export const BLOCK_BITS = 5;
export const BLOCK = 1 << BLOCK_BITS;
/** A range this short is summed directly: no tiles (and no tree) needed. */
export const TILE_SCAN_LIMIT = 2 * BLOCK;
const W = summary.WIDTH;
/** The fewest leaves a tree has: its region is then 2 × 4 nodes, the allocator's smallest (MIN_REGION). */
const MIN_LEAVES = 4;
/** Slots the columns start with (16 KB); they double as entities come. */
const FIRST_SLOTS = 1024;

/** Tree nodes: `capacity` nodes of W doubles each. */
class NodeChunk implements RegionChunk {
  readonly nodes: Float64Array;
  constructor(readonly capacity: number) {
    this.nodes = new Float64Array(capacity * W);
  }
}

export class TileTrees {
  private readonly regions = new Regions((_index, capacity) => new NodeChunk(capacity));
  /** Dense index of each numeric column's tree, or -1 for a column without tiles. */
  private readonly treeOfColumn: Int32Array;
  /** Trees per entity. */
  private readonly perEntity: number;
  // By slot (entity × perEntity + tree): the region's address, leaf slots (a power of two; 0 = no tree yet), and
  // how many leading blocks (and their ancestors) are up to date.
  private address = new Float64Array(FIRST_SLOTS);
  private leaves = new Int32Array(FIRST_SLOTS);
  private validBlocks = new Int32Array(FIRST_SLOTS);

  /** `treeColumns[c]`: whether numeric column c carries tiles (layout.ts). */
  constructor(treeColumns: readonly boolean[]) {
    this.treeOfColumn = new Int32Array(treeColumns.length).fill(-1);
    let trees = 0;
    treeColumns.forEach((tiled, c) => {
      if (tiled) this.treeOfColumn[c] = trees++;
    });
    this.perEntity = trees;
  }

  /** Entity `entity`'s events from `position` on changed (append or insert): their tiles must be rebuilt. */
  invalidateFrom(entity: number, position: number): void {
    const block = position >> BLOCK_BITS;
    const first = entity * this.perEntity;
    const end = Math.min(first + this.perEntity, this.leaves.length);
    for (let s = first; s < end; s++) if (block < this.validBlocks[s]!) this.validBlocks[s] = block;
  }

  /** Gives back entity `entity`'s trees (its positions moved, or it is gone); reads build them again. */
  release(entity: number): void {
    const first = entity * this.perEntity;
    const end = Math.min(first + this.perEntity, this.leaves.length);
    for (let s = first; s < end; s++) {
      const leaves = this.leaves[s]!;
      if (leaves === 0) continue;
      this.regions.release(this.address[s]!, 2 * leaves);
      this.leaves[s] = 0;
      this.validBlocks[s] = 0;
    }
  }

  /**
   * Summary of entity `entity`'s positions [lo, hi) of numeric column `column` into out at offset oo. The
   * column's positions start at `base` in `values` (a slab chunk); `n` is the column's length. The column must
   * carry tiles (layout.ts marks every column a summary slot reads).
   */
  query(
    entity: number,
    column: number,
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
    const slot = entity * this.perEntity + this.treeOfColumn[column]!;
    this.ensureBuilt(slot, values, base, n, endBlock);
    const address = this.address[slot]!;
    const nodes = this.regions.chunkOf(address).nodes;
    const root = Regions.offsetOf(address); // node 0's index in the chunk (node 1 is the tree's root)
    const cap = this.leaves[slot]!;
    let l = cap + firstBlock;
    let r = cap + endBlock;
    while (l < r) {
      if (l & 1) summary.merge(out, oo, nodes, (root + l++) * W);
      if (r & 1) summary.merge(out, oo, nodes, (root + --r) * W);
      l >>= 1;
      r >>= 1;
    }
  }

  private ensureBuilt(
    slot: number,
    values: Float64Array,
    base: number,
    n: number,
    neededBlocks: number,
  ): void {
    if (slot >= this.leaves.length) this.growColumns(slot + 1);
    if (this.validBlocks[slot]! >= neededBlocks) return;
    const fullBlocks = n >> BLOCK_BITS;
    if (fullBlocks > this.leaves[slot]!) this.grow(slot, fullBlocks);
    const address = this.address[slot]!;
    const nodes = this.regions.chunkOf(address).nodes;
    const root = Regions.offsetOf(address);
    const cap = this.leaves[slot]!;
    const from = this.validBlocks[slot]!;
    for (let b = from; b < cap; b++) {
      const o = (root + cap + b) * W;
      summary.init(nodes, o);
      if (b < fullBlocks)
        summary.addBatch(nodes, o, values, base + (b << BLOCK_BITS), base + ((b + 1) << BLOCK_BITS));
    }
    // Recompute the ancestors of the rebuilt leaves, level by level.
    let l = (cap + from) >> 1;
    let r = (2 * cap - 1) >> 1;
    while (l >= 1) {
      for (let p = l; p <= r; p++) {
        const o = (root + p) * W;
        summary.init(nodes, o);
        summary.merge(nodes, o, nodes, (root + 2 * p) * W);
        summary.merge(nodes, o, nodes, (root + 2 * p + 1) * W);
      }
      if (l === 1) break;
      l >>= 1;
      r >>= 1;
    }
    this.validBlocks[slot] = fullBlocks;
  }

  /** A region for at least `blocks` leaves; the tree is rebuilt from its first block. */
  private grow(slot: number, blocks: number): void {
    const old = this.leaves[slot]!;
    if (old > 0) this.regions.release(this.address[slot]!, 2 * old);
    let cap = Math.max(MIN_LEAVES, old);
    while (cap < blocks) cap *= 2;
    this.address[slot] = this.regions.allocate(2 * cap);
    this.leaves[slot] = cap;
    this.validBlocks[slot] = 0;
  }

  /** Columns long enough for `slots` slots (doubling; new slots have no tree). */
  private growColumns(slots: number): void {
    while (this.leaves.length < slots) {
      this.address = doubled(this.address);
      this.leaves = doubled(this.leaves);
      this.validBlocks = doubled(this.validBlocks);
    }
  }
}
