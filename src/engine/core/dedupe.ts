/**
 * De-duplication by event id (semantics.md): the first valid copy to arrive counts; later copies within the
 * horizon (default 30 days of arrival time) are duplicates. Pure memory: persistence is the intake's job.
 *
 * Ids are held as UTF-8 bytes in hash tables of typed arrays, not as strings in a Map: millions of remembered
 * ids would otherwise be millions of heap objects, each copied by the young-generation collector and then
 * traced by the old one (at 50k events/s the scavenges alone stretched acknowledgements by tens of ms). The
 * tables are split into shards, so that a shard's rebuild (on growth, which also drops expired and forgotten
 * ids) holds the event loop for a fraction of a millisecond, never for the whole set. Ids spread evenly over the
 * shards, so shards of one load factor would all fill up together, and their rebuilds, each small, would add up
 * to the whole set's within a few batches (20 ms stalls at 50k events/s): each shard has its own load factor,
 * from 0.35 to 0.7, so that their rebuilds fall at different sizes, spread over each doubling of the set.
 */

import { placeEntry } from './open-addressing.js';
import { hashBytes } from './operators/hash.js';

export const DEFAULT_DEDUPE_HORIZON_MS = 30 * 86_400_000;

const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;
/** Arrival time of a forgotten id: it reads as never seen. */
const FORGOTTEN = Number.NEGATIVE_INFINITY;

const MIN_SLOTS = 64;

/** One shard: open addressing (linear probing) over entries appended in arrival order. */
class Shard {
  /** slot → entry + 1 (0: empty); a power of two, at most `loadFactor` full (the entries' capacity). */
  slots = new Int32Array(MIN_SLOTS);
  hashes: Uint32Array;
  times: Float64Array;
  starts: Int32Array;
  lengths: Int32Array;
  count = 0;
  bytes = Buffer.allocUnsafe(512);
  used = 0;

  constructor(
    private readonly horizonMs: number,
    private readonly loadFactor: number,
  ) {
    const capacity = Math.floor(MIN_SLOTS * loadFactor);
    this.hashes = new Uint32Array(capacity);
    this.times = new Float64Array(capacity);
    this.starts = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
  }

  /** The entry holding these id bytes, or -1. */
  find(hash: number, id: Uint8Array, start: number, length: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]! - 1;
      if (entry < 0) return -1;
      if (
        this.hashes[entry] === hash &&
        this.lengths[entry] === length &&
        this.same(entry, id, start, length)
      )
        return entry;
    }
  }

  private same(entry: number, id: Uint8Array, start: number, length: number): boolean {
    const at = this.starts[entry]!;
    for (let k = 0; k < length; k++) if (this.bytes[at + k] !== id[start + k]) return false;
    return true;
  }

  add(hash: number, id: Uint8Array, start: number, length: number, time: number): void {
    if (this.count === this.times.length) this.rebuild(time);
    if (this.used + length > this.bytes.length) this.growBytes(length);
    const entry = this.count++;
    this.hashes[entry] = hash;
    this.times[entry] = time;
    this.starts[entry] = this.used;
    this.lengths[entry] = length;
    for (let k = 0; k < length; k++) this.bytes[this.used + k] = id[start + k]!;
    this.used += length;
    placeEntry(this.slots, entry, hash);
  }

  private growBytes(length: number): void {
    const bytes = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + length));
    this.bytes.copy(bytes, 0, 0, this.used);
    this.bytes = bytes;
  }

  /**
   * Keeps only live ids (seen within the horizon of `now` and not forgotten), in the same order, in tables with
   * room for at least twice as many. Called when full, and to expire.
   */
  rebuild(now: number): void {
    let live = 0;
    let liveBytes = 0;
    for (let e = 0; e < this.count; e++) {
      if (now - this.times[e]! <= this.horizonMs) {
        live++;
        liveBytes += this.lengths[e]!;
      }
    }
    // Slots a power of two (for the mask), entries `loadFactor` of them, at least twice the live ones.
    const slotCount = Math.max(MIN_SLOTS, 2 ** Math.ceil(Math.log2((2 * live + 1) / this.loadFactor)));
    const capacity = Math.floor(slotCount * this.loadFactor);
    const hashes = new Uint32Array(capacity);
    const times = new Float64Array(capacity);
    const starts = new Int32Array(capacity);
    const lengths = new Int32Array(capacity);
    const bytes = Buffer.allocUnsafe(Math.max(512, liveBytes * 2));
    let n = 0;
    let used = 0;
    for (let e = 0; e < this.count; e++) {
      if (!(now - this.times[e]! <= this.horizonMs)) continue;
      hashes[n] = this.hashes[e]!;
      times[n] = this.times[e]!;
      starts[n] = used;
      const length = this.lengths[e]!;
      lengths[n] = length;
      // Ids are short: a loop beats a native copy call per id.
      for (let k = 0, from = this.starts[e]!; k < length; k++) bytes[used + k] = this.bytes[from + k]!;
      used += length;
      n++;
    }
    this.hashes = hashes;
    this.times = times;
    this.starts = starts;
    this.lengths = lengths;
    this.bytes = bytes;
    this.used = used;
    this.count = n;
    this.slots = new Int32Array(slotCount);
    for (let e = 0; e < n; e++) placeEntry(this.slots, e, hashes[e]!);
  }
}

/** UTF-8 of string ids, encoded here before lookup. */
let scratch = Buffer.allocUnsafe(256);

export class Deduplicator {
  private readonly shards: Shard[] = [];
  duplicates = 0;

  constructor(private readonly horizonMs = DEFAULT_DEDUPE_HORIZON_MS) {
    for (let s = 0; s < SHARDS; s++) this.shards.push(new Shard(horizonMs, 0.35 + (0.35 * s) / SHARDS));
  }

  /** True when this is the first arrival of `id` within the horizon; false (and counted) for a duplicate. */
  accept(id: string, arrivalTime: number): boolean {
    const length = encode(id);
    return this.acceptBytes(scratch, 0, length, arrivalTime);
  }

  /** `accept` for an id given as its UTF-8 bytes [start, end) (the intake's fast path never makes a string). */
  acceptBytes(id: Uint8Array, start: number, end: number, arrivalTime: number): boolean {
    const hash = hashBytes(id, start, end);
    const shard = this.shards[hash >>> (32 - SHARD_BITS)]!;
    const entry = shard.find(hash, id, start, end - start);
    if (entry >= 0) {
      const seen = shard.times[entry]!;
      if (arrivalTime - seen <= this.horizonMs) {
        this.duplicates++;
        return false;
      }
      shard.times[entry] = arrivalTime; // arrives again after the horizon (or after being forgotten)
      return true;
    }
    shard.add(hash, id, start, end - start, arrivalTime);
    return true;
  }

  /** Forgets one id (its event was not stored after all, so it has not arrived). */
  forget(id: string): void {
    const length = encode(id);
    this.forgetBytes(scratch, 0, length);
  }

  forgetBytes(id: Uint8Array, start: number, end: number): void {
    const hash = hashBytes(id, start, end);
    const shard = this.shards[hash >>> (32 - SHARD_BITS)]!;
    const entry = shard.find(hash, id, start, end - start);
    if (entry >= 0) shard.times[entry] = FORGOTTEN;
  }

  /** Forgets every id first seen before `arrivalTime - horizon`. */
  expire(arrivalTime: number): void {
    for (const shard of this.shards) shard.rebuild(arrivalTime);
  }

  /** Ids remembered (expired ones count until their shard is next rebuilt). */
  get size(): number {
    let size = 0;
    for (const shard of this.shards)
      for (let e = 0; e < shard.count; e++) if (shard.times[e] !== FORGOTTEN) size++;
    return size;
  }
}

function encode(id: string): number {
  if (id.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(id.length * 3);
  return scratch.write(id, 0, 'utf8');
}
