/**
 * The latest durable batches of a partition, kept in memory so that tailing readers need no file I/O.
 *
 * Their bytes are copied into one buffer per partition that is reused round and round, not kept as the buffers
 * they were written from. Those lived for seconds, long enough to reach V8's old generation, where an
 * ArrayBuffer is freed only by a full collection; and V8 starts a full collection whenever 64 MB of such
 * memory has piled up since the last one. At 50,000 events/s that was one every ~4 s, a 3–7 ms pause in the
 * acknowledgements each time (docs/ingest.md). A ring allocates nothing once grown.
 *
 * Readers get copies, never views of the ring: the next batches overwrite it, whatever a reader still holds.
 */

import { lastAtMost } from './sorted-search.js';

interface HeldBatch {
  readonly firstOffset: number;
  readonly endOffset: number;
  /** Where its bytes start in the ring (they never wrap: a batch that would is written at the start). */
  start: number;
  readonly length: number;
}

const firstOffsetOf = (batch: HeldBatch) => batch.firstOffset;

export class TailRing {
  private ring: Buffer | null = null;
  /** Oldest first; positions increase until the ring wraps, so the oldest are always the ones overwritten. */
  private held: HeldBatch[] = [];
  private heldBytes = 0;
  /** Where the next batch goes. */
  private writeAt = 0;

  /**
   * `capacity`: the most bytes held; a batch larger than that is not held (readers read the file). The ring
   * starts at `initialBytes` and doubles as needed: a quiet partition holds little.
   */
  constructor(
    private readonly capacity: number,
    private readonly initialBytes = Math.min(capacity, 64 * 1024),
  ) {}

  /** Remembers a durable batch: records [firstOffset, endOffset), encoded in `bytes`. */
  add(firstOffset: number, endOffset: number, bytes: Uint8Array): void {
    const length = bytes.length;
    if (length === 0) return; // no records: nothing to read
    if (length > this.capacity) {
      this.clear();
      return;
    }
    if (
      this.ring === null ||
      (this.ring.length < this.capacity && this.heldBytes + length > this.ring.length)
    )
      this.grow(this.heldBytes + length);
    const ring = this.ring!;
    let start = this.writeAt;
    if (start + length > ring.length) {
      // The batch goes to the start; whatever lies past the old write position is the oldest: it goes first.
      for (let old = this.held[0]; old && old.start >= start; old = this.held[0]) this.dropOldest();
      start = 0;
    }
    const end = start + length;
    for (let old = this.held[0]; old && old.start < end && old.start + old.length > start; old = this.held[0])
      this.dropOldest();
    ring.set(bytes, start);
    this.held.push({ firstOffset, endOffset, start, length });
    this.heldBytes += length;
    this.writeAt = end;
  }

  /**
   * Copies of the held batches from the one holding `offset` on, oldest first; null when `offset` comes before
   * the oldest held record (or nothing is held), so that the caller reads the file instead.
   */
  batchesFrom(offset: number): Generator<Buffer> | null {
    const held = this.held;
    if (held.length === 0 || offset < held[0]!.firstOffset) return null;
    return this.copies(held[lastAtMost(held, offset, held.length, firstOffsetOf)]!.firstOffset);
  }

  private *copies(firstOffset: number): Generator<Buffer> {
    // Offsets, not indexes: the reader may resume after more batches were added (and old ones dropped). Each
    // next batch is found by binary search: a ring of one-event batches holds ~20,000 of them.
    const endOffset = this.held[this.held.length - 1]!.endOffset;
    for (let next = firstOffset; next < endOffset; ) {
      const batch = this.held[lastAtMost(this.held, next, this.held.length, firstOffsetOf)];
      if (batch?.firstOffset !== next) return; // overwritten meanwhile; the caller has what it got so far
      yield Buffer.from(this.ring!.subarray(batch.start, batch.start + batch.length));
      next = batch.endOffset;
    }
  }

  private dropOldest(): void {
    this.heldBytes -= this.held.shift()!.length;
  }

  private clear(): void {
    this.held = [];
    this.heldBytes = 0;
    this.writeAt = 0;
  }

  /** A larger ring (doubling, up to the capacity) with the held batches moved to its start, oldest first. */
  private grow(needed: number): void {
    let size = this.ring?.length ?? this.initialBytes;
    while (size < needed && size < this.capacity) size *= 2;
    size = Math.min(size, this.capacity);
    const ring = Buffer.allocUnsafe(size);
    let at = 0;
    for (const batch of this.held) {
      this.ring!.copy(ring, at, batch.start, batch.start + batch.length);
      batch.start = at;
      at += batch.length;
    }
    this.ring = ring;
    this.writeAt = at;
  }
}
