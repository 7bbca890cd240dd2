/**
 * One entity's events of one feature group, as sorted columns with the indexes that make as-of reads cheap.
 *
 * Events are kept in (event time, arrival sequence) order in typed columns. An on-time event is appended; a
 * late one is inserted where it belongs and changes every later read (semantics.md). A read at t looks only at
 * events with time < t and, per window [start, t), binary-searches its first event: counts are differences of
 * positions, numeric aggregates come from hierarchical tiles (TileTree), distinct counts from DistinctIndex,
 * first/last from presence lists, approximate distinct counts from a sliding HyperLogLog.
 */
import { Dictionary } from './dictionary.js';
import { DistinctIndex } from './distinct-index.js';
import { type AggregationReader, emptyValue, type TimelineLayout } from './layout.js';
import { DDSketch } from './operators/ddsketch.js';
import { estimateFromRegisters, REGISTERS, rankOf, registerOf } from './operators/hyperloglog.js';
import * as summary from './operators/numeric-summary.js';
import { SlidingHyperLogLog } from './sliding-hll.js';
import { TileTree } from './tile-tree.js';

/**
 * An entity with fewer events than this scans its window for approxCountDistinct; from this many on, its first
 * such read builds a sliding sketch that inserts then keep up.
 */
const SLIDING_HLL_MIN_EVENTS = 256;
/** How far ahead of a window's start the approxCountDistinct read cache begins (at most). */
const HLL_CACHE_BAND_MS = 3_600_000;

/** Registers of one approxCountDistinct feature over the events with time ≥ start. */
interface HllReadCache {
  readonly column: number;
  start: number;
  readonly registers: Uint8Array;
}

/** State shared by all timelines of one feature group: layout, dictionaries and read scratch space. */
export class GroupShared {
  readonly dictionaries: Dictionary[];
  readonly summaries: Float64Array;
  readonly starts: Float64Array;
  readonly lows: Int32Array;
  readonly registers = new Uint8Array(REGISTERS);
  readonly distinctScratch = new Set<number>();
  readonly quantileScratch = new DDSketch();

  constructor(readonly layout: TimelineLayout) {
    this.dictionaries = layout.categoricalFields.map(() => new Dictionary());
    this.summaries = new Float64Array(Math.max(1, layout.summarySlots.length) * summary.WIDTH);
    this.starts = new Float64Array(layout.windows.length);
    this.lows = new Int32Array(layout.windows.length);
  }
}

/** A batch of one entity's events as columns, in the layout's column order. */
export interface TimelineColumns {
  readonly times: Float64Array;
  readonly seqs: Float64Array;
  readonly numeric: readonly Float64Array[];
  readonly categorical: readonly Int32Array[];
}

/** First index in times[0..end) whose time is ≥ t. */
export function lowerBound(times: Float64Array, end: number, t: number): number {
  let lo = 0;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

  /** Index range [from, to) of present positions inside [lo, hi); with implicit positions, the range itself. */
  range(lo: number, hi: number): [number, number] {
    if (this.positions === null) return [lo, hi];
    return [lowerBoundInt(this.positions, this.length, lo), lowerBoundInt(this.positions, this.length, hi)];
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

export class Timeline {
  n = 0;
  times: Float64Array;
  seqs: Float64Array;
  readonly numeric: Float64Array[];
  readonly categorical: Int32Array[];
  private readonly trees: (TileTree | null)[];
  private readonly treeList: TileTree[];
  private readonly distinct: (DistinctIndex | null)[];
  private readonly hlls: (SlidingHyperLogLog | null)[];
  private hllCaches: (HllReadCache | undefined)[] | null = null;
  private readonly presence: PresenceList[];

  constructor(private readonly shared: GroupShared) {
    const layout = shared.layout;
    const capacity = 8;
    this.times = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.numeric = layout.numericFields.map(() => new Float64Array(capacity));
    this.categorical = layout.categoricalFields.map(() => new Int32Array(capacity));
    this.trees = layout.treeColumns.map((needed) => (needed ? new TileTree() : null));
    this.treeList = this.trees.filter((tree): tree is TileTree => tree !== null);
    this.distinct = layout.distinctColumns.map((needed) => (needed ? new DistinctIndex() : null));
    this.hlls = layout.hllColumns.map(() => null);
    this.presence = layout.presence.map(() => new PresenceList());
  }

  /** Latest event time, or -Infinity when empty. */
  get latestTime(): number {
    return this.n > 0 ? this.times[this.n - 1]! : Number.NEGATIVE_INFINITY;
  }

  private grow(): void {
    const capacity = this.times.length * 2;
    const growF = (a: Float64Array) => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    const growI = (a: Int32Array) => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    this.times = growF(this.times);
    this.seqs = growF(this.seqs);
    for (let c = 0; c < this.numeric.length; c++) this.numeric[c] = growF(this.numeric[c]!);
    for (let c = 0; c < this.categorical.length; c++) this.categorical[c] = growI(this.categorical[c]!);
  }

  /** Grows the columns to hold at least `needed` events. */
  private reserve(needed: number): void {
    while (this.times.length < needed) this.grow();
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
    let ordered =
      n === 0 ||
      times[from]! > this.times[n - 1]! ||
      (times[from] === this.times[n - 1] && seqs[from]! >= this.seqs[n - 1]!);
    for (let i = from + 1; ordered && i < to; i++) {
      if (times[i]! < times[i - 1]! || (times[i] === times[i - 1] && seqs[i]! < seqs[i - 1]!))
        ordered = false;
    }
    if (!ordered) {
      const numbers = new Float64Array(numeric.length);
      const ids = new Int32Array(categorical.length);
      for (let i = from; i < to; i++) {
        for (let c = 0; c < numeric.length; c++) numbers[c] = numeric[c]![i]!;
        for (let c = 0; c < categorical.length; c++) ids[c] = categorical[c]![i]!;
        this.insert(times[i]!, seqs[i]!, numbers, ids);
      }
      return;
    }
    this.reserve(n + count);
    this.times.set(times.subarray(from, to), n);
    this.seqs.set(seqs.subarray(from, to), n);
    for (let c = 0; c < numeric.length; c++) this.numeric[c]!.set(numeric[c]!.subarray(from, to), n);
    for (let c = 0; c < categorical.length; c++)
      this.categorical[c]!.set(categorical[c]!.subarray(from, to), n);
    this.n = n + count;
    for (const tree of this.treeList) tree.invalidateFrom(n);
    // Distinct indexes cover a prefix and extend themselves at the next read: appending leaves them valid.
    for (const c of this.shared.layout.hllColumnList) this.hlls[c] = null; // rebuilt by the next read
    this.hllCaches = null;
    const layout = this.shared.layout;
    for (let p = 0; p < this.presence.length; p++) {
      const refs = layout.presence[p]!.columns;
      for (let i = 0; i < count; i++) {
        let present = true;
        for (const ref of refs) {
          const row = from + i;
          if (ref.kind === 'num' ? Number.isNaN(numeric[ref.index]![row]) : categorical[ref.index]![row]! < 0)
            present = false;
        }
        this.presence[p]!.insert(n + i, n + i, present);
      }
    }
  }

  /**
   * Adds one event. `numbers` and `ids` hold its values for the layout's numeric (NaN = null) and categorical
   * (-1 = null) columns; they are copied, so callers reuse them.
   */
  insert(time: number, seq: number, numbers: Float64Array, ids: Int32Array): void {
    const n = this.n;
    if (n === this.times.length) this.grow();
    const times = this.times;
    const seqs = this.seqs;
    let at = n;
    if (n > 0 && (times[n - 1]! > time || (times[n - 1] === time && seqs[n - 1]! > seq))) {
      at = lowerBound(times, n, time);
      while (at < n && times[at] === time && seqs[at]! < seq) at++;
      times.copyWithin(at + 1, at, n);
      seqs.copyWithin(at + 1, at, n);
      for (const column of this.numeric) column.copyWithin(at + 1, at, n);
      for (const column of this.categorical) column.copyWithin(at + 1, at, n);
    }
    times[at] = time;
    seqs[at] = seq;
    for (let c = 0; c < this.numeric.length; c++) this.numeric[c]![at] = numbers[c]!;
    for (let c = 0; c < this.categorical.length; c++) this.categorical[c]![at] = ids[c]!;
    this.n = n + 1;

    const trees = this.treeList;
    for (let i = 0; i < trees.length; i++) trees[i]!.invalidateFrom(at);
    const layout = this.shared.layout;
    const distinctColumns = layout.distinctColumnList;
    for (let i = 0; i < distinctColumns.length; i++) {
      const c = distinctColumns[i]!;
      if (at === n) this.distinct[c]!.append(this.categorical[c]!, at);
      else this.distinct[c]!.invalidate();
    }
    const hllColumns = layout.hllColumnList;
    for (let i = 0; i < hllColumns.length; i++) {
      const c = hllColumns[i]!;
      // Kept up only once a read has built it: entities never read pay nothing for it.
      if (this.hlls[c] && ids[c]! >= 0)
        this.addToSketches(c, time, this.shared.dictionaries[c]!.hashOf(ids[c]!));
    }
    const presence = this.presence;
    for (let p = 0; p < presence.length; p++) {
      const columns = layout.presence[p]!.columns;
      let present = true;
      for (let i = 0; i < columns.length; i++) {
        const ref = columns[i]!;
        if (ref.kind === 'num' ? Number.isNaN(numbers[ref.index]) : ids[ref.index]! < 0) present = false;
      }
      presence[p]!.insert(at, n, present);
    }
  }

  /** A new value of an approxCountDistinct column: into the sliding sketch and into cached registers it falls in. */
  private addToSketches(column: number, time: number, hash: number): void {
    this.hlls[column]!.add(time, hash);
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

  private buildSlidingHll(column: number): SlidingHyperLogLog {
    const hll = new SlidingHyperLogLog();
    const ids = this.categorical[column]!;
    const dictionary = this.shared.dictionaries[column]!;
    for (let i = 0; i < this.n; i++) if (ids[i]! >= 0) hll.add(this.times[i]!, dictionary.hashOf(ids[i]!));
    return hll;
  }

  /** Writes the group's feature values as of t (events with time < t) into out[offset…]. */
  read(t: number, out: unknown[], offset: number): void {
    const shared = this.shared;
    const layout = shared.layout;
    const n = this.n;
    const times = this.times;
    const hi = n > 0 && times[n - 1]! < t ? n : lowerBound(times, n, t);
    const windows = layout.windows;
    for (let w = 0; w < windows.length; w++) {
      const { windowMs, bucketMs } = windows[w]!;
      if (windowMs === null) {
        shared.starts[w] = Number.NEGATIVE_INFINITY;
        shared.lows[w] = 0;
      } else {
        const end = bucketMs === null ? t : Math.floor(t / bucketMs) * bucketMs;
        shared.starts[w] = end - windowMs;
        shared.lows[w] = lowerBound(times, hi, end - windowMs);
      }
    }
    const slots = layout.summarySlots;
    for (let s = 0; s < slots.length; s++) {
      const { column, window } = slots[s]!;
      this.trees[column]!.query(
        this.numeric[column]!,
        n,
        shared.lows[window]!,
        hi,
        shared.summaries,
        s * summary.WIDTH,
      );
    }
    const readers = layout.readers;
    for (let r = 0; r < readers.length; r++) {
      const reader = readers[r]!;
      const lo = shared.lows[reader.window]!;
      out[offset + r] = lo < hi ? this.value(reader, lo, hi, t) : emptyValue(reader.fn);
    }
  }

  private value(reader: AggregationReader, lo: number, hi: number, t: number): unknown {
    const shared = this.shared;
    const s = shared.summaries;
    const o = reader.summarySlot * summary.WIDTH;
    switch (reader.fn) {
      case 'count':
        return hi - lo;
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
        return t - this.times[hi - 1]!;
      case 'timeSinceFirst':
        return t - this.times[lo]!;
      case 'countDistinct':
        return this.distinct[reader.catColumn]!.count(
          this.categorical[reader.catColumn]!,
          this.n,
          lo,
          hi,
          shared.distinctScratch,
        );
      case 'approxCountDistinct':
        return this.approxDistinct(reader, lo, hi);
      case 'approxQuantile': {
        const sketch = shared.quantileScratch;
        sketch.clear();
        sketch.addBatch(this.numeric[reader.numColumn]!, lo, hi);
        return sketch.quantile(reader.q);
      }
      default:
        return this.recency(reader, lo, hi);
    }
  }

  /**
   * approxCountDistinct. A window reaching the latest event reads the sliding sketch through a cache: registers
   * of the events from `cache.start` (a little after this window's start) on, kept current by inserts; the few
   * events between the window's start and `cache.start` are added by a scan. As reads move forward in time the
   * cache is rebuilt once per band, not once per read. Other windows scan.
   */
  private approxDistinct(reader: AggregationReader, lo: number, hi: number): number {
    const shared = this.shared;
    const registers = shared.registers;
    const column = reader.catColumn;
    let hll = this.hlls[column];
    if (!hll && this.n >= SLIDING_HLL_MIN_EVENTS) hll = this.hlls[column] = this.buildSlidingHll(column);
    let scanEnd = hi;
    if (hll && hi === this.n) {
      const start = shared.starts[reader.window]!;
      const caches = (this.hllCaches ??= []);
      let cache = caches[reader.index];
      if (!cache || start > cache.start) {
        cache ??= caches[reader.index] = { column, start: 0, registers: new Uint8Array(REGISTERS) };
        const windowMs = shared.layout.windows[reader.window]!.windowMs;
        cache.start =
          windowMs === null ? start : start + Math.min(HLL_CACHE_BAND_MS, Math.floor(windowMs / 16));
        hll.registersSince(cache.start, cache.registers);
      }
      registers.set(cache.registers);
      scanEnd = cache.start === Number.NEGATIVE_INFINITY ? lo : lowerBound(this.times, this.n, cache.start);
    } else registers.fill(0);
    const ids = this.categorical[column]!;
    const dictionary = shared.dictionaries[column]!;
    for (let i = lo; i < scanEnd; i++) {
      const id = ids[i]!;
      if (id < 0) continue;
      const hash = dictionary.hashOf(id);
      const register = registerOf(hash);
      const rank = rankOf(hash);
      if (rank > registers[register]!) registers[register] = rank;
    }
    return estimateFromRegisters(registers);
  }

  private recency(reader: AggregationReader, lo: number, hi: number): unknown {
    const list = this.presence[reader.presence]!;
    const [from, to] = list.range(lo, hi);
    const fromEnd = reader.fn === 'last' || reader.fn === 'lastK';
    const taken = Math.min(reader.k, to - from);
    const single = reader.fn === 'first' || reader.fn === 'last';
    if (single && taken === 0) return null;
    const result: unknown[] = [];
    for (let i = 0; i < taken; i++) {
      const position = list.at(fromEnd ? to - 1 - i : from + i);
      result.push(this.valueAt(reader, position));
    }
    return single ? result[0] : result;
  }

  private valueAt(reader: AggregationReader, position: number): unknown {
    const refs = reader.values;
    if (refs.length === 1) return this.columnValue(refs[0]!.kind, refs[0]!.index, position);
    const record: Record<string, unknown> = {};
    for (const ref of refs) record[ref.field] = this.columnValue(ref.kind, ref.index, position);
    return record;
  }

  private columnValue(kind: 'num' | 'cat', index: number, position: number): unknown {
    if (kind === 'num') return this.numeric[index]![position]!;
    const id = this.categorical[index]![position]!;
    return id < 0 ? null : this.shared.dictionaries[index]!.values[id];
  }
}
