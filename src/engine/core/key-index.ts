/**
 * Entity numbers by key, kept off V8's heap: the keys' UTF-16 code units in one growable array, the entries in
 * typed columns, and an open-addressing table (linear probing) of entry numbers.
 *
 * Why not a Map<string, number>: at a million entities its keys are a million strings and its table a large
 * array, all in V8's old generation, and every scavenge walks the old generation's pages. Measured on the serve
 * benchmark's server, a Map of a million customer keys adds ~0.2 ms to every scavenge pause, and those pauses
 * are the read latency's tail (docs/serving.md). Here the whole index is a handful of typed arrays.
 *
 * Entries keep the order of insertion, as a Map does (for `entries()` and steps over entry ranges): a deleted entry
 * leaves a hole that is skipped, and the holes are squeezed out once they outnumber the live entries.
 */

import { doubled } from '../../util/typed-arrays.js';
import { placeEntry } from './open-addressing.js';
import { hashString } from './operators/hash.js';

/** No entry: get's answer for an absent key. */
export const ABSENT = -1;
/** An entry's length once it is deleted. */
const DELETED = -1;
/** The chars array is indexed by int32 offsets. */
const MAX_CHARS = 2 ** 31 - 1;

/** Keys copied out in order: key k is the `lengths[k]` code units of `chars` after those of keys 0 … k − 1. */
export interface PackedKeys {
  readonly chars: Uint16Array;
  readonly lengths: Int32Array;
  /** Keys and code units written so far. */
  count: number;
  charCount: number;
}

/** The string of code units chars[start, start + length). */
export function keyFromChars(chars: Uint16Array, start: number, length: number): string {
  // fromCharCode takes its arguments on the stack: long keys go in pieces.
  let key = '';
  for (let at = 0; at < length; at += 8192)
    key += String.fromCharCode.apply(
      null,
      chars.subarray(start + at, start + Math.min(length, at + 8192)) as unknown as number[],
    );
  return key;
}

export class KeyIndex {
  /** Entry number + 1 per slot (0: empty); a power of two in size, at most half full. */
  private slots = new Int32Array(1024);
  /** Entries in insertion order: the key's hash, where its code units start in `chars`, how many, its value. */
  private hashes = new Int32Array(512);
  private starts = new Int32Array(512);
  private lengths = new Int32Array(512);
  private values = new Int32Array(512);
  private chars = new Uint16Array(4096);
  private charsUsed = 0;
  /** Entries appended, deleted ones included (the end of the entry columns). */
  private appended = 0;
  private live = 0;
  /** Code units of the live keys (a snapshot's first part needs it, without a pass over every entry). */
  private liveCharCount = 0;

  get size(): number {
    return this.live;
  }

  /** Entries appended so far, holes included (squeezed out once they outnumber the live entries). */
  get entrySpan(): number {
    return this.appended;
  }

  /** The value of `key`, or ABSENT. */
  get(key: string): number {
    const slot = this.slotOf(key, hashString(key) | 0);
    return slot < 0 ? ABSENT : this.values[this.slots[slot]! - 1]!;
  }

  /** Sets the value of `key` (a non-negative int32); a new key goes last in the order. */
  set(key: string, value: number): void {
    const hash = hashString(key) | 0;
    const slot = this.slotOf(key, hash);
    if (slot >= 0) {
      this.values[this.slots[slot]! - 1] = value;
      return;
    }
    if (this.appended === this.hashes.length) this.makeRoomForEntry();
    if ((this.live + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    if (this.charsUsed + key.length > this.chars.length) this.makeRoomForChars(key.length);
    const entry = this.appended++;
    this.hashes[entry] = hash;
    this.starts[entry] = this.charsUsed;
    this.lengths[entry] = key.length;
    this.values[entry] = value;
    for (let i = 0; i < key.length; i++) this.chars[this.charsUsed + i] = key.charCodeAt(i);
    this.charsUsed += key.length;
    this.live++;
    this.liveCharCount += key.length;
    placeEntry(this.slots, entry, hash);
  }

  /** Removes `key`; false when it was absent. */
  delete(key: string): boolean {
    const slot = this.slotOf(key, hashString(key) | 0);
    if (slot < 0) return false;
    this.liveCharCount -= key.length;
    this.lengths[this.slots[slot]! - 1] = DELETED;
    this.live--;
    this.closeGap(slot);
    return true;
  }

  /** The key of entry `entry` (a new string), or null for a deleted one. */
  private entryKey(entry: number): string | null {
    const length = this.lengths[entry]!;
    return length === DELETED ? null : keyFromChars(this.chars, this.starts[entry]!, length);
  }

  /**
   * Calls `visit` with every live entry's value, in insertion order, no key strings made; or with those among
   * entries [from, to) of that order (`entrySpan` entries in all, holes included), for work done in steps.
   */
  forEachValue(visit: (value: number) => void, from = 0, to = this.appended): void {
    const end = Math.min(to, this.appended);
    for (let entry = from; entry < end; entry++)
      if (this.lengths[entry] !== DELETED) visit(this.values[entry]!);
  }

  /** UTF-16 code units of all live keys (the size of a PackedKeys' `chars` that holds them all). */
  get liveChars(): number {
    return this.liveCharCount;
  }

  /**
   * Appends the keys of the live entries among [from, to) to `into`, in insertion order (snapshots: no string
   * made). Their code units are copied in runs: entries' keys lie one after the other, holes aside.
   */
  packKeys(into: PackedKeys, from = 0, to = this.appended): void {
    const end = Math.min(to, this.appended);
    let runStart = -1;
    let runEnd = -1;
    const flush = (): void => {
      if (runStart < runEnd) into.chars.set(this.chars.subarray(runStart, runEnd), into.charCount);
      into.charCount += runEnd - runStart;
    };
    for (let entry = from; entry < end; entry++) {
      const length = this.lengths[entry]!;
      if (length === DELETED) continue;
      const start = this.starts[entry]!;
      if (start !== runEnd) {
        flush();
        runStart = start;
      }
      runEnd = start + length;
      into.lengths[into.count++] = length;
    }
    flush();
  }

  /** Every key with its value, in insertion order. */
  *entries(): IterableIterator<[string, number]> {
    for (let entry = 0; entry < this.appended; entry++) {
      const key = this.entryKey(entry);
      if (key !== null) yield [key, this.values[entry]!];
    }
  }

  /** The slot that holds `key`'s entry, or -1. */
  private slotOf(key: string, hash: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const held = this.slots[slot]!;
      if (held === 0) return -1;
      if (this.hashes[held - 1] === hash && this.equals(held - 1, key)) return slot;
    }
  }

  private equals(entry: number, key: string): boolean {
    if (this.lengths[entry] !== key.length) return false;
    const start = this.starts[entry]!;
    for (let i = 0; i < key.length; i++) if (this.chars[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /**
   * Empties `slot` and moves later entries of its probe run back into the gap (no tombstones: lookups stay as
   * short as the table's load allows, however many keys come and go).
   */
  private closeGap(slot: number): void {
    const mask = this.slots.length - 1;
    let gap = slot;
    for (let next = (slot + 1) & mask; this.slots[next] !== 0; next = (next + 1) & mask) {
      const home = this.hashes[this.slots[next]! - 1]! & mask;
      // The entry at `next` may fill the gap unless its home lies cyclically in (gap, next].
      const homeAfterGap = gap <= next ? home > gap && home <= next : home > gap || home <= next;
      if (!homeAfterGap) {
        this.slots[gap] = this.slots[next]!;
        gap = next;
      }
    }
    this.slots[gap] = 0;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let entry = 0; entry < this.appended; entry++)
      if (this.lengths[entry] !== DELETED) placeEntry(this.slots, entry, this.hashes[entry]!);
  }

  /** Deleted entries are at least half of those appended: squeezing them out frees room. */
  private get mostlyHoles(): boolean {
    return (this.appended - this.live) * 2 >= this.appended;
  }

  /** Squeezes out deleted entries when they are at least half of the columns, else doubles the columns. */
  private makeRoomForEntry(): void {
    if (this.mostlyHoles) {
      this.compact();
      return;
    }
    this.hashes = doubled(this.hashes);
    this.starts = doubled(this.starts);
    this.lengths = doubled(this.lengths);
    this.values = doubled(this.values);
  }

  /** Room for `count` more code units: by squeezing out deleted keys when they are many, else by growing. */
  private makeRoomForChars(count: number): void {
    if (this.mostlyHoles) this.compact();
    const needed = this.charsUsed + count;
    if (needed <= this.chars.length) return;
    if (needed > MAX_CHARS)
      throw new RangeError(
        `the entity keys of one feature group exceed ${MAX_CHARS.toLocaleString('en-US')} UTF-16 code units in all: shorten the keys or split the state`,
      );
    let capacity = this.chars.length * 2;
    while (capacity < needed) capacity *= 2;
    const chars = new Uint16Array(Math.min(capacity, MAX_CHARS));
    chars.set(this.chars.subarray(0, this.charsUsed));
    this.chars = chars;
  }

  /** Moves live entries (and their code units) to the front, in order, and rebuilds the table. */
  private compact(): void {
    let to = 0;
    let charsTo = 0;
    for (let entry = 0; entry < this.appended; entry++) {
      const length = this.lengths[entry]!;
      if (length === DELETED) continue;
      const start = this.starts[entry]!;
      this.chars.copyWithin(charsTo, start, start + length);
      this.hashes[to] = this.hashes[entry]!;
      this.starts[to] = charsTo;
      this.lengths[to] = length;
      this.values[to] = this.values[entry]!;
      charsTo += length;
      to++;
    }
    this.appended = to;
    this.charsUsed = charsTo;
    this.rehash(this.slots.length);
  }
}
