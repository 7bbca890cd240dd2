/**
 * A segment's sparse index: the offset and file position of every INDEX_EVERY-th record, in two typed columns
 * that grow by doubling.
 *
 * Why not two number[]: they are V8 heap arrays, and a log's indexes grow with the log (at 20M records, 13 MB in
 * 112 arrays of the old generation). Every scavenge walks the old generation's pages, so the server's pauses
 * grew with its log: in a bare fastify server given 13 MB of such arrays, with its young generation held at the
 * server's 16 MB, the median scavenge went 0.61 → 0.72 ms (docs/serving.md). Typed arrays keep their elements
 * off the heap.
 */
import { doubled } from '../../util/typed-arrays.js';
import { lastAtMost } from './sorted-search.js';

export class SparseIndex {
  private offsets = new Float64Array(16);
  private positions = new Float64Array(16);
  private entries = 0;

  get length(): number {
    return this.entries;
  }

  push(offset: number, position: number): void {
    if (this.entries === this.offsets.length) {
      this.offsets = doubled(this.offsets);
      this.positions = doubled(this.positions);
    }
    this.offsets[this.entries] = offset;
    this.positions[this.entries] = position;
    this.entries++;
  }

  offsetAt(entry: number): number {
    return this.offsets[entry]!;
  }

  positionAt(entry: number): number {
    return this.positions[entry]!;
  }

  /** The last entry whose offset is at most `offset`, or -1. */
  lastAtOffset(offset: number): number {
    return lastAtMost(this.offsets, offset, this.entries);
  }

  /** The last entry whose position is at most `position`, or -1. */
  lastAtPosition(position: number): number {
    return lastAtMost(this.positions, position, this.entries);
  }
}
