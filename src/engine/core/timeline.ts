/**
 * One entity's events of one feature group, as sorted columns with the indexes that make as-of reads cheap.
 *
 * Events are kept in (event time, arrival sequence) order in a region of the group's shared column slab
 * (slab.ts); indexes exist only for entities whose reads need them (long windows, nulls in first/last). An on-time event is appended; a
 * late one is inserted where it belongs and changes every later read (semantics.md). A read at t looks only at
 * events with time < t and, per window [start, t), binary-searches its first event: counts are differences of
 * positions, numeric aggregates come from hierarchical tiles (tile-trees.ts), distinct counts from DistinctIndex,
 * first/last from presence lists, approximate distinct counts from a sliding HyperLogLog.
 */

import { doubled } from '../../util/typed-arrays.js';
import { Dictionary } from './dictionary.js';
import { DISTINCT_SCAN_LIMIT, DistinctIndex, DistinctScan } from './distinct-index.js';
import { EvictedPrefix, type PrefixRow, type PrefixSnapshot } from './evicted-prefix.js';
import { type AggregationReader, type ColumnRef, emptyValue, type TimelineLayout } from './layout.js';
import { DDSketch } from './operators/ddsketch.js';
import { estimateFromRegisters, REGISTERS, rankOf, registerOf } from './operators/hyperloglog.js';
import * as summary from './operators/numeric-summary.js';
import { CHUNK_UNITS, MIN_REGION, regionCapacity, Slab, type SlabChunk } from './slab.js';
import { SlidingHyperLogLog } from './sliding-hll.js';
import { TileTrees } from './tile-trees.js';

/** How far ahead of a window's start the approxCountDistinct read cache begins (at most). */
const HLL_CACHE_BAND_MS = 3_600_000;

/** Registers of one approxCountDistinct feature over the events with time ≥ start. */
interface HllReadCache {
  readonly column: number;
  start: number;
  readonly registers: Uint8Array;
}

/** The indexes and evicted prefix of one entity: made by the first read or eviction that needs them. */
class TimelineExtras {
  distinct: (DistinctIndex | null)[] | null = null;
  hlls: (SlidingHyperLogLog | null)[] | null = null;
  hllCaches: (HllReadCache | undefined)[] | null = null;
  presence: (PresenceList | null)[] | null = null;
  /** Running aggregates of the events evicted by retention (online only), or null when none was. */
  prefix: EvictedPrefix | null = null;
}

/**
 * Every entity's timeline fields, as columns indexed by entity number: a million entities cost a few arrays,
 * not a million objects. Why: each scavenge walks every page of V8's old generation, so its pause grows with the
 * number of small objects kept (measured: 1.5 ms with 250 MB of timeline objects against 0.4 ms without, every
 * ~120 ms while serving), and that pause is a read's latency tail.
 */
class EntityTable {
  /** Events held. */
  n = new Int32Array(1024);
  /** The slab region's address and its size in events. */
  address = new Float64Array(1024);
  capacity = new Int32Array(1024);
  /**
   * Each entity's place in `extrasList` (0: it has no indexes or prefix, as most have none). A typed column, not a
   * JS array with a slot per entity: a million mostly-null slots were 8 MB of the heap's old generation (of
   * 44 MB in the serve benchmark's server), which every full collection marks.
   */
  private extrasSlot = new Int32Array(1024);
  private readonly extrasList: (TimelineExtras | null)[] = [null];
  private readonly spareExtras: number[] = [];
  /** Entity numbers given back, reused before new ones. */
  private readonly spare: number[] = [];
  private end = 0;

  /** Entity numbers in use are below this. */
  get span(): number {
    return this.end;
  }

  add(): number {
    const reused = this.spare.pop();
    if (reused !== undefined) return reused;
    if (this.end === this.n.length) this.grow();
    return this.end++;
  }

  remove(entity: number): void {
    this.n[entity] = 0;
    const slot = this.extrasSlot[entity]!;
    if (slot !== 0) {
      this.extrasList[slot] = null;
      this.spareExtras.push(slot);
      this.extrasSlot[entity] = 0;
    }
    this.spare.push(entity);
  }

  extrasOf(entity: number): TimelineExtras | null {
    const slot = this.extrasSlot[entity]!;
    return slot === 0 ? null : this.extrasList[slot]!;
  }

  /** The entity's extras, made on first need. */
  extrasToWrite(entity: number): TimelineExtras {
    const slot = this.extrasSlot[entity]!;
    if (slot !== 0) return this.extrasList[slot]!;
    const extras = new TimelineExtras();
    const spare = this.spareExtras.pop();
    if (spare !== undefined) {
      this.extrasList[spare] = extras;
      this.extrasSlot[entity] = spare;
    } else {
      this.extrasSlot[entity] = this.extrasList.length;
      this.extrasList.push(extras);
    }
    return extras;
  }

  private grow(): void {
    this.n = doubled(this.n);
    this.address = doubled(this.address);
    this.capacity = doubled(this.capacity);
    this.extrasSlot = doubled(this.extrasSlot);
  }
}

/** State shared by all timelines of one feature group: layout, entities, dictionaries and read scratch space. */
export class GroupShared {
  readonly dictionaries: Dictionary[];
  readonly summaries: Float64Array;
  readonly starts: Float64Array;
  readonly lows: Int32Array;
  readonly registers = new Uint8Array(REGISTERS);
  /** Where prefetch() leaves its sum, so that its loads are not optimised away. */
  readonly prefetched = new Float64Array(1);
  readonly distinctScan = new DistinctScan();
  readonly quantileScratch = new DDSketch();
  readonly slab: Slab;
  readonly entities = new EntityTable();
  /** Tiles over the numeric columns that need them, for every entity (tile-trees.ts). */
  readonly trees: TileTrees;
  /** Per-event scratch for appendBatch's fallback, reused. */
  readonly numbers: Float64Array;
  readonly ids: Int32Array;

  constructor(readonly layout: TimelineLayout) {
    this.slab = new Slab(layout.numericFields.length, layout.categoricalFields.length);
    this.trees = new TileTrees(layout.treeColumns);
    this.numbers = new Float64Array(layout.numericFields.length);
    this.ids = new Int32Array(layout.categoricalFields.length);
    this.dictionaries = layout.categoricalFields.map(() => new Dictionary());
    this.summaries = new Float64Array(Math.max(1, layout.summarySlots.length) * summary.WIDTH);
    this.starts = new Float64Array(layout.windows.length);
    this.lows = new Int32Array(layout.windows.length);
  }

  /**
   * How many MIN_REGION-sized places the slab's chunks span. Each entity's region starts at its own place
   * (Timeline.regionPlace), so entities can be visited in the order of their events in memory.
   */
  get regionPlaces(): number {
    return (this.slab.chunks.length * CHUNK_UNITS) / MIN_REGION;
  }
}

/** A batch of one entity's events as columns, in the layout's column order. */
export interface TimelineColumns {
  readonly times: Float64Array;
  readonly seqs: Float64Array;
  readonly numeric: readonly Float64Array[];
  readonly categorical: readonly Int32Array[];
}

/** First position p in [0, end) whose time times[base + p] is ≥ t (end when none). */
export function lowerBound(times: Float64Array, base: number, end: number, t: number): number {
  let lo = 0;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[base + mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Loads the first and last event of every column of a timeline, one after the other, before a read needs them:
 * independent loads, so that their cache and TLB misses overlap instead of coming one at a time as the read
 * reaches each column (the state is far larger than the cache, and a random customer's columns are cold). Cold
 * reads of random customers at 1M: 5.45 → 4.6 µs per group read (touching every line of the last 64 events as
 * well gained nothing more). The sum goes to `sink` so that the loads are kept.
 */
function prefetch(chunk: SlabChunk, base: number, n: number, sink: Float64Array): void {
  const last = base + n - 1;
  let sum = chunk.times[base]! + chunk.times[last]!;
  const numeric = chunk.numeric;
  for (let c = 0; c < numeric.length; c++) sum += numeric[c]![base]! + numeric[c]![last]!;
  const categorical = chunk.categorical;
  for (let c = 0; c < categorical.length; c++) sum += categorical[c]![base]! + categorical[c]![last]!;
  sink[0] = sum;
}

/** Positions where all fields of a first/last set are non-null; implicit (every position) until a null arrives. */
class PresenceList {
  positions: Int32Array | null = null;
  length = 0;

  insert(position: number, n: number, present: boolean): void {
    if (this.positions === null) {
      if (present) return;
      const positions = new Int32Array(Math.max(16, n * 2));
      for (let i = 0; i < n; i++) positions[i] = i < position ? i : i + 1;
      this.positions = positions;
      this.length = n;
      return;
    }
    let positions = this.positions;
    const at = lowerBoundInt(positions, this.length, position);
    for (let i = at; i < this.length; i++) positions[i]!++;
    if (!present) return;
    if (this.length === positions.length) {
      const grown = new Int32Array(positions.length * 2);
      grown.set(positions);
      this.positions = positions = grown;
    }
    positions.copyWithin(at + 1, at, this.length);
    positions[at] = position;
    this.length++;
  }

  /** Index of the first present position ≥ `position`. */
  from(position: number): number {
    return this.positions === null ? position : lowerBoundInt(this.positions, this.length, position);
  }

  at(index: number): number {
    return this.positions === null ? index : this.positions[index]!;
  }
}

/** lowerBound for Int32Array positions: kept apart so that each stays monomorphic on its array kind (hot path). */
function lowerBoundInt(values: Int32Array, end: number, x: number): number {
  let lo = 0;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Copies `n` values from `from[fromAt…]` to `to[toAt…]`: a plain loop for the short runs most entities hold (no
 * subarray view to allocate), `set` for long ones.
 */
function copyRange<T extends Float64Array | Int32Array>(
  from: T,
  fromAt: number,
  to: T,
  toAt: number,
  n: number,
): void {
  if (n > 64) to.set(from.subarray(fromAt, fromAt + n), toAt);
  else for (let i = 0; i < n; i++) to[toAt + i] = from[fromAt + i]!;
}

const NO_ROWS: readonly PrefixRow[] = [];
const NO_VALUES: unknown[] = [];

/** Whether all columns of a first/last set are non-null in the row given by numbers/ids. */
function presentIn(
  columns: readonly ColumnRef[],
  numbers: ArrayLike<number>,
  ids: ArrayLike<number>,
): boolean {
  for (let i = 0; i < columns.length; i++) {
    const ref = columns[i]!;
    if (ref.kind === 'num' ? Number.isNaN(numbers[ref.index]) : ids[ref.index]! < 0) return false;
  }
  return true;
}

/**
 * One entity's timeline, seen through a cursor: its fields live in the group's EntityTable, and `entity` says
 * whose they are. A group keeps one cursor and points it at each entity in turn (no object per entity or event).
 */
export class Timeline {
  /** The entity this cursor reads and writes. */
  entity = -1;

  constructor(private readonly shared: GroupShared) {}

  /** A new entity with a region for `capacity` events; the cursor points at it. */
  create(capacity = 0): this {
    const { entities, slab } = this.shared;
    const entity = entities.add();
    const regionEvents = regionCapacity(capacity);
    entities.capacity[entity] = regionEvents;
    entities.address[entity] = slab.allocate(regionEvents);
    this.entity = entity;
    return this;
  }

  /** Points the cursor at `entity`. */
  at(entity: number): this {
    this.entity = entity;
    return this;
  }

  get n(): number {
    return this.shared.entities.n[this.entity]!;
  }

  /** Where the entity's region starts, in MIN_REGION-sized places (< GroupShared.regionPlaces; one per entity). */
  get regionPlace(): number {
    return this.address / MIN_REGION;
  }

  private set n(value: number) {
    this.shared.entities.n[this.entity] = value;
  }

  private get address(): number {
    return this.shared.entities.address[this.entity]!;
  }

  private get capacity(): number {
    return this.shared.entities.capacity[this.entity]!;
  }

  /** The slab chunk holding this timeline's region, and the region's first slot in it. */
  private get chunk(): SlabChunk {
    return this.shared.slab.chunkOf(this.address);
  }

  private get base(): number {
    return Slab.offsetOf(this.address);
  }

  private get extras(): TimelineExtras | null {
    return this.shared.entities.extrasOf(this.entity);
  }

  /** The entity's extras, made on first need. */
  private get extrasToWrite(): TimelineExtras {
    return this.shared.entities.extrasToWrite(this.entity);
  }

  // Indexes, created by the first read (or null value) that needs them: most entities never need any. Read here,
  // written through extrasToWrite.
  private get distinct(): (DistinctIndex | null)[] | null {
    return this.extras?.distinct ?? null;
  }

  private get hlls(): (SlidingHyperLogLog | null)[] | null {
    return this.extras?.hlls ?? null;
  }

  private get hllCaches(): (HllReadCache | undefined)[] | null {
    return this.extras?.hllCaches ?? null;
  }

  private get presence(): (PresenceList | null)[] | null {
    return this.extras?.presence ?? null;
  }

  /** Running aggregates of the events evicted by retention (online only), or null when none was. */
  private get prefix(): EvictedPrefix | null {
    return this.extras?.prefix ?? null;
  }

  /** Earliest event time held, or +Infinity when empty. */
  get oldestTime(): number {
    return this.n > 0 ? this.chunk.times[this.base]! : Number.POSITIVE_INFINITY;
  }

  /** The evicted prefix as plain data (checkpoints), or null. */
  prefixSnapshot(): PrefixSnapshot | null {
    return this.prefix?.snapshot() ?? null;
  }

  restorePrefix(snapshot: PrefixSnapshot): void {
    this.extrasToWrite.prefix = new EvictedPrefix(this.shared.layout, snapshot);
  }

  /** Latest event time, or -Infinity when empty. */
  get latestTime(): number {
    return this.n > 0 ? this.chunk.times[this.base + this.n - 1]! : Number.NEGATIVE_INFINITY;
  }

  /** Event times, sequences and column values of positions [0, n), copied out (snapshots). */
  copyTo(
    times: Float64Array,
    seqs: Float64Array,
    numeric: readonly Float64Array[],
    categorical: readonly Int32Array[],
    at: number,
  ): void {
    const { chunk, base, n } = this;
    copyRange(chunk.times, base, times, at, n);
    copyRange(chunk.seqs, base, seqs, at, n);
    for (let c = 0; c < numeric.length; c++) copyRange(chunk.numeric[c]!, base, numeric[c]!, at, n);
    for (let c = 0; c < categorical.length; c++)
      copyRange(chunk.categorical[c]!, base, categorical[c]!, at, n);
  }

  /** Gives the region back to the slab and the entity number back to the table; the entity is gone. */
  release(): void {
    this.shared.slab.release(this.address, this.capacity);
    this.shared.trees.release(this.entity);
    this.shared.entities.remove(this.entity);
  }

  /** Moves to a region that holds at least `needed` events. */
  private reserve(needed: number): void {
    if (needed > this.capacity) this.moveTo(regionCapacity(needed));
  }

  /** Moves the events to a new region of `capacity` (≥ n) and frees the old one. */
  private moveTo(capacity: number): void {
    const slab = this.shared.slab;
    const address = slab.allocate(capacity);
    const chunk = slab.chunkOf(address);
    const base = Slab.offsetOf(address);
    // Within one chunk (the common case) no views are allocated.
    if (chunk === this.chunk) chunk.copyWithin(base, this.base, this.base + this.n);
    else this.copyTo(chunk.times, chunk.seqs, chunk.numeric, chunk.categorical, base);
    slab.release(this.address, this.capacity);
    this.shared.entities.address[this.entity] = address;
    this.shared.entities.capacity[this.entity] = capacity;
  }

  /**
   * Adds a batch of this entity's events, given as columns (rows [from, to) of each), sorted by (time, seq) and
   * none before the latest event held: copied in bulk, indexes rebuilt by the next read that needs them. A
   * batch that is not in order falls back to one insert per event.
   */
  appendBatch(columns: TimelineColumns, from: number, to: number): void {
    const count = to - from;
    if (count <= 0) return;
    const n = this.n;
    const { times, seqs, numeric, categorical } = columns;
    const last = this.base + n - 1;
    let ordered =
      n === 0 ||
      times[from]! > this.chunk.times[last]! ||
      (times[from] === this.chunk.times[last] && seqs[from]! >= this.chunk.seqs[last]!);
    for (let i = from + 1; ordered && i < to; i++) {
      if (times[i]! < times[i - 1]! || (times[i] === times[i - 1] && seqs[i]! < seqs[i - 1]!))
        ordered = false;
    }
    if (!ordered) {
      const { numbers, ids } = this.shared;
      for (let i = from; i < to; i++) {
        for (let c = 0; c < numeric.length; c++) numbers[c] = numeric[c]![i]!;
        for (let c = 0; c < categorical.length; c++) ids[c] = categorical[c]![i]!;
        this.insert(times[i]!, seqs[i]!, numbers, ids);
      }
      return;
    }
    this.reserve(n + count);
    const { chunk, base } = this;
    const at = base + n;
    chunk.times.set(times.subarray(from, to), at);
    chunk.seqs.set(seqs.subarray(from, to), at);
    for (let c = 0; c < numeric.length; c++) chunk.numeric[c]!.set(numeric[c]!.subarray(from, to), at);
    for (let c = 0; c < categorical.length; c++)
      chunk.categorical[c]!.set(categorical[c]!.subarray(from, to), at);
    this.n = n + count;
    this.shared.trees.invalidateFrom(this.entity, n);
    // Distinct indexes cover a prefix and extend themselves at the next read: appending leaves them valid.
    const extras = this.extras;
    if (extras !== null) {
      extras.hlls = null; // rebuilt by the next read
      extras.hllCaches = null;
    }
    for (let p = 0; p < this.shared.layout.presence.length; p++)
      for (let i = n; i < n + count; i++) this.notePresence(p, i, i, this.presentAt(p, i));
  }

  /** Records whether the event inserted at `position` (of n before it) has all fields of presence set p. */
  private notePresence(p: number, position: number, n: number, present: boolean): void {
    let list = this.presence?.[p] ?? null;
    if (list === null) {
      if (present) return; // implicit: every position is present
      const extras = this.extrasToWrite;
      extras.presence ??= this.shared.layout.presence.map(() => null);
      list = extras.presence[p] = new PresenceList();
    }
    list.insert(position, n, present);
  }

  /** Whether the event at `position` has every field of first/last set p. */
  private presentAt(p: number, position: number): boolean {
    const { chunk } = this;
    const slot = this.base + position;
    const columns = this.shared.layout.presence[p]!.columns;
    for (let i = 0; i < columns.length; i++) {
      const ref = columns[i]!;
      if (
        ref.kind === 'num'
          ? Number.isNaN(chunk.numeric[ref.index]![slot])
          : chunk.categorical[ref.index]![slot]! < 0
      )
        return false;
    }
    return true;
  }

  /**
   * Retention (online): folds the events with time < cutoff into the evicted prefix and drops them from the
   * columns. Reads must then stay at or after cutoff + the layout's retention span (the group engine checks).
   */
  evictBefore(cutoff: number): void {
    const extras = this.extrasToWrite;
    const prefix = (extras.prefix ??= new EvictedPrefix(this.shared.layout));
    if (cutoff > prefix.before) prefix.before = cutoff;
    const { chunk, base, n } = this;
    const lo = lowerBound(chunk.times, base, n, prefix.before);
    if (lo === 0) return;
    let row = 0;
    const numberAt = (c: number) => chunk.numeric[c]![base + row]!;
    const idAt = (c: number) => chunk.categorical[c]![base + row]!;
    const present = (p: number) => this.presentAt(p, row);
    for (; row < lo; row++)
      prefix.add(chunk.times[base + row]!, chunk.seqs[base + row]!, numberAt, idAt, present);
    chunk.copyWithin(base, base + lo, base + n);
    const kept = n - lo;
    this.n = kept;
    // Positions moved: indexes start again (rebuilt by the reads that need them).
    this.shared.trees.release(this.entity);
    extras.distinct = null;
    extras.hlls = null;
    extras.hllCaches = null;
    if (extras.presence) {
      const lists = extras.presence;
      extras.presence = null;
      for (let p = 0; p < lists.length; p++) {
        if (!lists[p]) continue;
        for (let i = 0; i < kept; i++) this.notePresence(p, i, i, this.presentAt(p, i));
      }
    }
    if (this.capacity > MIN_REGION && kept <= this.capacity / 4) this.moveTo(regionCapacity(kept * 2));
  }

  /**
   * Adds one event. `numbers` and `ids` hold its values for the layout's numeric (NaN = null) and categorical
   * (-1 = null) columns; they are copied, so callers reuse them.
   */
  insert(time: number, seq: number, numbers: Float64Array, ids: Int32Array): void {
    if (this.prefix !== null && time < this.prefix.before) {
      // Late, and older than anything a windowed read reaches: only the running aggregates change.
      const sets = this.shared.layout.presence;
      this.prefix.add(
        time,
        seq,
        (c) => numbers[c]!,
        (c) => ids[c]!,
        (p) => presentIn(sets[p]!.columns, numbers, ids),
      );
      return;
    }
    const n = this.n;
    if (n === this.capacity) this.reserve(n + 1);
    const { chunk, base } = this;
    const times = chunk.times;
    const seqs = chunk.seqs;
    const end = base + n;
    let at = n;
    if (n > 0 && (times[end - 1]! > time || (times[end - 1] === time && seqs[end - 1]! > seq))) {
      at = lowerBound(times, base, n, time);
      while (at < n && times[base + at] === time && seqs[base + at]! < seq) at++;
      chunk.copyWithin(base + at + 1, base + at, end);
    }
    const slot = base + at;
    times[slot] = time;
    seqs[slot] = seq;
    for (let c = 0; c < chunk.numeric.length; c++) chunk.numeric[c]![slot] = numbers[c]!;
    for (let c = 0; c < chunk.categorical.length; c++) chunk.categorical[c]![slot] = ids[c]!;
    this.n = n + 1;

    this.shared.trees.invalidateFrom(this.entity, at);
    const distinct = this.distinct;
    if (distinct !== null) {
      for (let c = 0; c < distinct.length; c++) {
        const index = distinct[c];
        if (!index) continue;
        if (at === n) index.append(chunk.categorical[c]!, base, at);
        else index.invalidate();
      }
    }
    const hlls = this.hlls;
    if (hlls !== null) {
      for (let c = 0; c < hlls.length; c++) {
        // Kept up only once a read has built it: entities never read pay nothing for it.
        if (hlls[c] && ids[c]! >= 0)
          this.addToSketches(c, time, this.shared.dictionaries[c]!.hashOf(ids[c]!));
      }
    }
    const specs = this.shared.layout.presence;
    for (let p = 0; p < specs.length; p++) {
      const present = presentIn(specs[p]!.columns, numbers, ids);
      if (!present || this.presence?.[p]) this.notePresence(p, at, n, present);
    }
  }

  /** A new value of an approxCountDistinct column: into the sliding sketch and into cached registers it falls in. */
  private addToSketches(column: number, time: number, hash: number): void {
    this.hlls![column]!.add(time, hash);
    const caches = this.hllCaches;
    if (!caches) return;
    for (let r = 0; r < caches.length; r++) {
      const cache = caches[r];
      if (cache && cache.column === column && time >= cache.start) {
        const register = registerOf(hash);
        const rank = rankOf(hash);
        if (rank > cache.registers[register]!) cache.registers[register] = rank;
      }
    }
  }

  /** The entity's sliding sketch of `column`, built from its events at its first read, kept by inserts after. */
  private newSlidingHll(column: number): SlidingHyperLogLog {
    const extras = this.extrasToWrite;
    extras.hlls ??= this.shared.layout.hllColumns.map(() => null);
    const hll = this.buildSlidingHll(column);
    extras.hlls[column] = hll;
    return hll;
  }

  private buildSlidingHll(column: number): SlidingHyperLogLog {
    const hll = new SlidingHyperLogLog();
    const { chunk, base } = this;
    const ids = chunk.categorical[column]!;
    const dictionary = this.shared.dictionaries[column]!;
    for (let i = base; i < base + this.n; i++)
      if (ids[i]! >= 0) hll.add(chunk.times[i]!, dictionary.hashOf(ids[i]!));
    return hll;
  }

  /** Writes the group's feature values as of t (events with time < t) into out[offset…]. */
  read(t: number, out: unknown[], offset: number): void {
    const shared = this.shared;
    const layout = shared.layout;
    const { n, chunk, base, prefix } = this;
    const times = chunk.times;
    if (n > 0) prefetch(chunk, base, n, shared.prefetched);
    const hi = n > 0 && times[base + n - 1]! < t ? n : lowerBound(times, base, n, t);
    const windows = layout.windows;
    for (let w = 0; w < windows.length; w++) {
      const { windowMs, bucketMs } = windows[w]!;
      if (windowMs === null) {
        shared.starts[w] = Number.NEGATIVE_INFINITY;
        shared.lows[w] = 0;
      } else {
        const end = bucketMs === null ? t : Math.floor(t / bucketMs) * bucketMs;
        shared.starts[w] = end - windowMs;
        shared.lows[w] = lowerBound(times, base, hi, end - windowMs);
      }
    }
    const slots = layout.summarySlots;
    for (let s = 0; s < slots.length; s++) {
      const { column, window } = slots[s]!;
      const lo = shared.lows[window]!;
      const o = s * summary.WIDTH;
      shared.trees.query(this.entity, column, chunk.numeric[column]!, base, n, lo, hi, shared.summaries, o);
      if (prefix !== null && windows[window]!.windowMs === null)
        summary.merge(shared.summaries, o, prefix.summaries, o);
    }
    const readers = layout.readers;
    for (let r = 0; r < readers.length; r++) {
      const reader = readers[r]!;
      const lo = shared.lows[reader.window]!;
      const evicted = prefix !== null && prefix.count > 0 && windows[reader.window]!.windowMs === null;
      out[offset + r] = lo < hi || evicted ? this.value(reader, lo, hi, t) : emptyValue(reader.fn);
    }
  }

  private value(reader: AggregationReader, lo: number, hi: number, t: number): unknown {
    const shared = this.shared;
    const s = shared.summaries;
    const o = reader.summarySlot * summary.WIDTH;
    const { chunk, base } = this;
    switch (reader.fn) {
      case 'count':
        return hi - lo + (this.evictedFor(reader)?.count ?? 0);
      case 'sum':
        return summary.sum(s, o);
      case 'mean':
        return summary.mean(s, o);
      case 'min':
        return summary.min(s, o);
      case 'max':
        return summary.max(s, o);
      case 'variance':
        return summary.variance(s, o);
      case 'stddev':
        return summary.stddev(s, o);
      case 'timeSinceLast':
        return hi > lo ? t - chunk.times[base + hi - 1]! : t - this.evictedFor(reader)!.lastTime;
      case 'timeSinceFirst': {
        const evicted = this.evictedFor(reader);
        return evicted !== null && evicted.count > 0 ? t - evicted.firstTime : t - chunk.times[base + lo]!;
      }
      case 'countDistinct': {
        const column = reader.catColumn;
        const ids = chunk.categorical[column]!;
        if (hi - lo <= DISTINCT_SCAN_LIMIT) return shared.distinctScan.count(ids, base + lo, base + hi);
        const extras = this.extrasToWrite;
        extras.distinct ??= shared.layout.distinctColumns.map(() => null);
        const index = (extras.distinct[column] ??= new DistinctIndex());
        return index.count(ids, base, this.n, this.capacity, lo, hi, shared.distinctScan);
      }
      case 'approxCountDistinct':
        return this.approxDistinct(reader, lo, hi);
      case 'approxQuantile': {
        const sketch = shared.quantileScratch;
        sketch.clear();
        sketch.addBatch(chunk.numeric[reader.numColumn]!, base + lo, base + hi);
        return sketch.quantile(reader.q);
      }
      default:
        return this.recency(reader, lo, hi);
    }
  }

  /**
   * approxCountDistinct. A window of at most DISTINCT_SCAN_LIMIT events is counted exactly, by a scan: 256 events
   * scan in ~0.7 µs, where an estimate costs ~1 µs over the 1,024 registers alone, and an exact count is within
   * any error bound. The choice depends on the window's events only, so reads of the same window give the same
   * value on every path. A longer window reaching the latest event reads the sliding sketch (built at the entity's
   * first such read, kept by inserts after) through a cache: registers of the events from `cache.start` (a little
   * after this window's start) on, kept current by inserts; the few events between the window's start and
   * `cache.start` are added by a scan. As reads move forward in time the cache is rebuilt once per band, not once
   * per read. Other windows fill the registers by a scan.
   */
  private approxDistinct(reader: AggregationReader, lo: number, hi: number): number {
    const shared = this.shared;
    const registers = shared.registers;
    const column = reader.catColumn;
    const { chunk, base } = this;
    if (hi - lo <= DISTINCT_SCAN_LIMIT)
      return shared.distinctScan.count(chunk.categorical[column]!, base + lo, base + hi);
    let scanEnd = hi;
    if (hi === this.n) {
      const hll = this.hlls?.[column] ?? this.newSlidingHll(column);
      const start = shared.starts[reader.window]!;
      const caches = (this.extrasToWrite.hllCaches ??= []);
      let cache = caches[reader.index];
      if (!cache || start > cache.start) {
        cache ??= caches[reader.index] = { column, start: 0, registers: new Uint8Array(REGISTERS) };
        const windowMs = shared.layout.windows[reader.window]!.windowMs;
        cache.start =
          windowMs === null ? start : start + Math.min(HLL_CACHE_BAND_MS, Math.floor(windowMs / 16));
        hll.registersSince(cache.start, cache.registers);
      }
      registers.set(cache.registers);
      scanEnd =
        cache.start === Number.NEGATIVE_INFINITY ? lo : lowerBound(chunk.times, base, this.n, cache.start);
    } else registers.fill(0);
    const ids = chunk.categorical[column]!;
    const dictionary = shared.dictionaries[column]!;
    for (let i = base + lo; i < base + scanEnd; i++) {
      const id = ids[i]!;
      if (id < 0) continue;
      const hash = dictionary.hashOf(id);
      const register = registerOf(hash);
      const rank = rankOf(hash);
      if (rank > registers[register]!) registers[register] = rank;
    }
    return estimateFromRegisters(registers);
  }

  /** The evicted prefix when this reader covers all history and events were evicted, else null. */
  private evictedFor(reader: AggregationReader): EvictedPrefix | null {
    return this.prefix !== null && this.shared.layout.windows[reader.window]!.windowMs === null
      ? this.prefix
      : null;
  }

  private recency(reader: AggregationReader, lo: number, hi: number): unknown {
    const list = this.presence?.[reader.presence] ?? null;
    const from = list === null ? lo : list.from(lo);
    const to = list === null ? hi : list.from(hi);
    const fromEnd = reader.fn === 'last' || reader.fn === 'lastK';
    // Evicted rows come before every held one: after them from the end, before them from the start.
    const evicted = this.evictedFor(reader);
    const rows =
      evicted === null ? NO_ROWS : (fromEnd ? evicted.lastRows : evicted.firstRows)[reader.presence]!;
    const held = to - from;
    const taken = Math.min(reader.k, held + rows.length);
    const single = reader.fn === 'first' || reader.fn === 'last';
    if (single && taken === 0) return null;
    const result: unknown[] = single ? NO_VALUES : new Array(taken);
    for (let i = 0; i < taken; i++) {
      let value: unknown;
      if (fromEnd) {
        if (i < held) {
          const index = to - 1 - i;
          value = this.valueAt(reader, list === null ? index : list.at(index));
        } else value = this.rowValue(reader, rows[rows.length - 1 - (i - held)]!);
      } else if (i < rows.length) value = this.rowValue(reader, rows[i]!);
      else {
        const index = from + i - rows.length;
        value = this.valueAt(reader, list === null ? index : list.at(index));
      }
      if (single) return value;
      result[i] = value;
    }
    return result;
  }

  /** A first/last value from an evicted row. */
  private rowValue(reader: AggregationReader, row: PrefixRow): unknown {
    const refs = reader.values;
    const one = (ref: ColumnRef) =>
      this.served(ref.kind, ref.index, ref.kind === 'num' ? row.numbers[ref.index]! : row.ids[ref.index]!);
    if (refs.length === 1) return one(refs[0]!);
    const record: Record<string, unknown> = {};
    for (const ref of refs) record[ref.field] = one(ref);
    return record;
  }

  private valueAt(reader: AggregationReader, position: number): unknown {
    const refs = reader.values;
    if (refs.length === 1) return this.columnValue(refs[0]!.kind, refs[0]!.index, position);
    const record: Record<string, unknown> = {};
    for (const ref of refs) record[ref.field] = this.columnValue(ref.kind, ref.index, position);
    return record;
  }

  private columnValue(kind: 'num' | 'cat', index: number, position: number): unknown {
    const slot = this.base + position;
    return this.served(
      kind,
      index,
      kind === 'num' ? this.chunk.numeric[index]![slot]! : this.chunk.categorical[index]![slot]!,
    );
  }

  /** A stored value as served: a number as it is, a category id as its value (-1: null). */
  private served(kind: 'num' | 'cat', index: number, stored: number): unknown {
    if (kind === 'num') return stored;
    return stored < 0 ? null : this.shared.dictionaries[index]!.values[stored];
  }
}
