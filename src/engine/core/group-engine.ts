/**
 * Evaluates one feature group: routes each event to its entity's timeline after enriching it with lookups (as
 * of the event's own time) and applying the `where` filter, and reads the group's features as of any t.
 */

import { whereVariables } from '../../definitions/compile.js';
import type { ExpressionPlan, FeatureGroupPlan, Plan } from '../../definitions/plan.js';
import { compileCel } from '../../expressions/cel.js';
import type { CoreEvent } from './event.js';
import type { PrefixSnapshot } from './evicted-prefix.js';
import { ABSENT, KeyIndex, keyFromChars, type PackedKeys } from './key-index.js';
import { keyString } from './keys.js';
import { buildLayout, emptyValue, type TimelineLayout } from './layout.js';
import type { ReferenceTables } from './reference-tables.js';
import { GroupShared, Timeline } from './timeline.js';

/** Shared, never written: a group without lookups enriches nothing, and allocates nothing per event. */
const NO_ROWS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
/**
 * A snapshot's first part does ~1/30 of the copy's work per entity (a few sequential loads and stores): its steps
 * take this many times the copy's entities, so that they last about as long.
 */
const HELD_STEP_FACTOR = 32;

/** One entity's events as columns: row i is (times[i], seqs[i], fields[name][i]). */
export interface EntityBatch {
  readonly length: number;
  readonly times: Float64Array;
  readonly seqs: Float64Array;
  readonly fields: Readonly<Record<string, Float64Array | readonly unknown[]>>;
}

/**
 * A group's state as plain data (checkpoints): every entity's events as stored, sorted by (time, seq), one
 * entity after another in a few long columns, categorical values as dictionary ids.
 */
export interface GroupSnapshot {
  /** Each categorical column's values, by id. */
  readonly dictionaries: readonly (readonly unknown[])[];
  /**
   * The entities' keys, packed (a million key strings would cost the checkpoint's writer as much as the events):
   * key k is the keyLengths[k] UTF-16 code units of keyChars after those of keys 0 … k − 1.
   */
  readonly keyChars: Uint16Array;
  readonly keyLengths: Int32Array;
  /**
   * Entity e's key is key keyOf[e] (absent: key e). Keys are packed in the order they were made, entities in the
   * order they were copied, so that neither part needs the other's order (beginSnapshot).
   */
  readonly keyOf?: Int32Array;
  /** Events of each entity (as many entities as keys). */
  readonly counts: Int32Array;
  readonly times: Float64Array;
  readonly seqs: Float64Array;
  readonly numeric: readonly Float64Array[];
  readonly categorical: readonly Int32Array[];
  /** Online retention: the greatest event time applied, the first readable time, evicted prefixes by entity. */
  readonly watermark?: number;
  readonly readableFrom?: number;
  readonly evicted?: { readonly entities: readonly number[]; readonly prefixes: readonly PrefixSnapshot[] };
}

/** Events of one stream as columns, in arrival order: row i is (times[i], seqs[i], each field's i-th value). */
export interface DecodedRows {
  readonly count: number;
  readonly times: Float64Array;
  readonly seqs: Float64Array;
  readonly numeric: Readonly<Record<string, Float64Array>>;
  readonly values: Readonly<Record<string, readonly unknown[]>>;
}

/** One entity's events as stored: sorted by (time, seq), categorical values as dictionary ids. */
export interface EntityColumns {
  readonly times: Float64Array;
  readonly seqs: Float64Array;
  readonly numeric: readonly Float64Array[];
  readonly categorical: readonly Int32Array[];
}

/** A read at a time whose windows reach events that online retention has evicted. */
export class EvictedRangeError extends Error {
  readonly code = 'TRIBUTARY_EVICTED_RANGE';
}

type FieldReader = (fields: Readonly<Record<string, unknown>>, rows: Record<string, unknown>) => unknown;

function fieldReader(field: string, aliases: ReadonlySet<string>): FieldReader {
  const dot = field.indexOf('.');
  if (dot > 0 && aliases.has(field.slice(0, dot))) {
    const alias = field.slice(0, dot);
    const name = field.slice(dot + 1);
    return (_fields, rows) => (rows[alias] as Record<string, unknown> | null)?.[name];
  }
  return (fields) => fields[field];
}

function compileFilter(
  where: ExpressionPlan | null,
  plan: Plan,
  group: FeatureGroupPlan,
): ((context: Record<string, unknown>) => boolean) | null {
  if (!where) return null;
  if (where.kind === 'function') {
    const fn = where.fn as (context: Record<string, unknown>) => unknown;
    return (context) => fn(context) === true;
  }
  const compiled = compileCel(
    where.source,
    whereVariables(plan.streams[group.stream], [...group.lookups], plan.tables),
  );
  return (context) => compiled.evaluate(context) === true;
}

export class FeatureGroupEngine {
  readonly layout: TimelineLayout;
  readonly names: readonly string[];
  private readonly shared: GroupShared;
  /** Entity numbers by key, in order of arrival (snapshots keep it), off the heap (key-index.ts). */
  private readonly entities = new KeyIndex();
  /**
   * While a snapshot is being copied: called before an entity's events change or it is dropped (beginSnapshot).
   */
  private beforeWrite: ((entity: number, dropping: boolean) => void) | null = null;
  /** The one cursor over this group's timelines, pointed at each entity in turn. */
  private readonly timeline: Timeline;
  private readonly keyField: string;
  private readonly filter: ((context: Record<string, unknown>) => boolean) | null;
  private readonly numericReaders: FieldReader[];
  private readonly categoricalReaders: FieldReader[];
  private readonly numbers: Float64Array;
  private readonly ids: Int32Array;
  /** Events seen, applied, and left out by the filter or for lack of a key. */
  readonly stats = { applied: 0, filtered: 0, unkeyed: 0 };
  /** Greatest event time applied. */
  private watermark = Number.NEGATIVE_INFINITY;
  /** Online retention: the horizon of the views reading this group, or null when every event is kept. */
  private retentionHorizonMs: number | null = null;
  /** Events before this may be evicted (watermark − horizon − the longest window span). */
  private cutoff = Number.NEGATIVE_INFINITY;
  /** How far past the cutoff an entity's oldest event may lag before it is evicted (amortises the moves). */
  private evictionSlack = 0;
  /** Reads before this time are refused: their windows could reach evicted events. */
  private readableFrom = Number.NEGATIVE_INFINITY;

  constructor(
    plan: Plan,
    readonly group: FeatureGroupPlan,
    private readonly tables: ReferenceTables | null = null,
  ) {
    this.layout = buildLayout(plan, group);
    this.shared = new GroupShared(this.layout);
    this.timeline = new Timeline(this.shared);
    this.names = group.aggregations.map((a) => a.name);
    this.keyField = plan.streams[group.stream]!.keys[group.entity]!;
    this.filter = compileFilter(group.where, plan, group);
    const aliases = new Set(group.lookups.map((l) => l.alias));
    this.numericReaders = this.layout.numericFields.map((f) => fieldReader(f, aliases));
    this.categoricalReaders = this.layout.categoricalFields.map((f) => fieldReader(f, aliases));
    this.numbers = new Float64Array(this.layout.numericFields.length);
    this.ids = new Int32Array(this.layout.categoricalFields.length);
  }

  /** The cursor at `key`'s timeline, made (with room for `capacity` events) when the key is new. */
  private timelineOf(key: string, capacity: number): Timeline {
    const entity = this.entities.get(key);
    if (entity !== ABSENT) {
      if (this.beforeWrite !== null) this.beforeWrite(entity, false);
      return this.timeline.at(entity);
    }
    this.timeline.create(capacity);
    this.entities.set(key, this.timeline.entity);
    return this.timeline;
  }

  /**
   * Bounds the state online: an entity's events older than the latest event time minus `horizonMs` minus the
   * longest window are folded into running aggregates and dropped. A no-op for a group with an all-history
   * aggregation that needs every event (countDistinct, approxCountDistinct, approxQuantile without window).
   */
  enableRetention(horizonMs: number): void {
    const { spanMs, supported } = this.layout.retention;
    if (!supported) return;
    this.retentionHorizonMs = horizonMs;
    this.evictionSlack = Math.max(1, Math.floor((spanMs + horizonMs) / 4));
    this.cutoff = this.watermark - horizonMs - spanMs;
  }

  get retentionEnabled(): boolean {
    return this.retentionHorizonMs !== null;
  }

  private evict(timeline: Timeline, cutoff = this.cutoff): void {
    timeline.evictBefore(cutoff);
    const readable = cutoff + this.layout.retention.spanMs;
    if (readable > this.readableFrom) this.readableFrom = readable;
  }

  /** Evicts what entities not updated lately still hold past the cutoff (active ones evict as they go). */
  evictIdle(): void {
    if (this.retentionHorizonMs === null) return;
    this.entities.forEachValue((entity) => {
      if (this.timeline.at(entity).oldestTime >= this.cutoff) return;
      // Only an entity that evicts changes: a snapshot being copied copies it first, and no other.
      if (this.beforeWrite !== null) this.beforeWrite(entity, false);
      this.evict(this.timeline.at(entity));
    });
  }

  /** Applies one event; false when it has no key for this group's entity or the filter leaves it out. */
  add(event: CoreEvent): boolean {
    const key = keyString(event.fields[this.keyField]);
    if (key === null) {
      this.stats.unkeyed++;
      return false;
    }
    return this.addKeyed(key, event);
  }

  /** Applies one event to the entity `key` (already taken from the event); false when the filter leaves it out. */
  addKeyed(key: string, event: CoreEvent): boolean {
    const rows = this.lookupRows(event);
    if (this.filter) {
      const context = this.group.lookups.length
        ? { ...event.fields, ...rows }
        : (event.fields as Record<string, unknown>);
      if (!this.filter(context)) {
        this.stats.filtered++;
        return false;
      }
    }
    const numbers = this.numbers;
    for (let c = 0; c < numbers.length; c++) {
      const value = this.numericReaders[c]!(event.fields, rows);
      numbers[c] = typeof value === 'number' ? value : Number.NaN;
    }
    const ids = this.ids;
    const dictionaries = this.shared.dictionaries;
    for (let c = 0; c < ids.length; c++)
      ids[c] = dictionaries[c]!.idOf(this.categoricalReaders[c]!(event.fields, rows));
    this.insertRow(key, event.time, event.seq);
    return true;
  }

  /** Whether events can be applied as decoded columns (addDecoded): no filter and no lookups need the event. */
  get takesColumns(): boolean {
    return this.filter === null && this.group.lookups.length === 0;
  }

  /** The fields addDecoded reads: numeric ones (as Float64Array, NaN = null), and the key and categorical ones. */
  get columnFields(): { readonly numeric: readonly string[]; readonly values: readonly string[] } {
    return { numeric: this.layout.numericFields, values: [this.keyField, ...this.layout.categoricalFields] };
  }

  /**
   * Applies `count` events given as columns, in order (the online processor's decoder thread makes them): the
   * same effect as `add` for each, for a group that `takesColumns`.
   */
  addDecoded(rows: DecodedRows): void {
    const keys = rows.values[this.keyField]!;
    const numericColumns = this.layout.numericFields.map((f) => rows.numeric[f]!);
    const categoricalColumns = this.layout.categoricalFields.map((f) => rows.values[f]!);
    const { numbers, ids } = this;
    const dictionaries = this.shared.dictionaries;
    for (let i = 0; i < rows.count; i++) {
      const key = keyString(keys[i]);
      if (key === null) {
        this.stats.unkeyed++;
        continue;
      }
      for (let c = 0; c < numbers.length; c++) numbers[c] = numericColumns[c]![i]!;
      for (let c = 0; c < ids.length; c++) ids[c] = dictionaries[c]!.idOf(categoricalColumns[c]![i]);
      this.insertRow(key, rows.times[i]!, rows.seqs[i]!);
    }
  }

  /** Inserts the event held in this.numbers / this.ids into the entity's timeline; evicts as retention says. */
  private insertRow(key: string, time: number, seq: number): void {
    const { numbers, ids } = this;
    const timeline = this.timelineOf(key, 0);
    timeline.insert(time, seq, numbers, ids);
    this.stats.applied++;
    if (time > this.watermark) {
      this.watermark = time;
      if (this.retentionHorizonMs !== null)
        this.cutoff = time - this.retentionHorizonMs - this.layout.retention.spanMs;
    }
    if (timeline.oldestTime < this.cutoff - this.evictionSlack) this.evict(timeline);
  }

  /**
   * Adds one entity's events given as columns (the offline sweep's path): `times`, `seqs`, and per field either a
   * Float64Array (NaN = null) or an array of values. Without a filter or lookups the columns are appended in
   * bulk; otherwise each row goes through `add`. Returns how many events were applied.
   */
  addEntityColumns(key: string, batch: EntityBatch): number {
    const { times, seqs, fields, length } = batch;
    if (this.filter || this.group.lookups.length) {
      let applied = 0;
      for (let i = 0; i < length; i++) {
        const row: Record<string, unknown> = { [this.keyField]: key };
        for (const name in fields) {
          const column = fields[name]!;
          const value = column[i];
          row[name] = typeof value === 'number' && Number.isNaN(value) ? null : value;
        }
        if (this.addKeyed(key, { time: times[i]!, seq: seqs[i]!, fields: row })) applied++;
      }
      return applied;
    }
    const numeric = this.layout.numericFields.map((field) => {
      const column = fields[field];
      if (column instanceof Float64Array) return column;
      const out = new Float64Array(length).fill(Number.NaN);
      if (column)
        for (let i = 0; i < length; i++) if (typeof column[i] === 'number') out[i] = column[i] as number;
      return out;
    });
    const categorical = this.layout.categoricalFields.map((field, c) => {
      const column = fields[field];
      const dictionary = this.shared.dictionaries[c]!;
      const out = new Int32Array(length).fill(-1);
      if (column) {
        for (let i = 0; i < length; i++) {
          const value = column[i];
          out[i] = typeof value === 'number' && Number.isNaN(value) ? -1 : dictionary.idOf(value);
        }
      }
      return out;
    });
    const timeline = this.timelineOf(key, length);
    timeline.appendBatch({ times, seqs, numeric, categorical }, 0, length);
    this.stats.applied += length;
    return length;
  }

  private lookupRows(event: CoreEvent): Record<string, unknown> {
    if (this.group.lookups.length === 0) return NO_ROWS;
    const rows: Record<string, unknown> = {};
    for (const lookup of this.group.lookups) {
      const key = keyString(event.fields[lookup.keyField]);
      rows[lookup.alias] =
        key === null || !this.tables ? null : this.tables.asOf(lookup.table, key, event.time);
    }
    return rows;
  }

  /** Writes the group's features for `key` as of t into out[offset…], in aggregation order. */
  read(key: string, t: number, out: unknown[], offset = 0): void {
    if (t < this.readableFrom)
      throw new EvictedRangeError(
        `feature group \`${this.group.name}\`: a read at ${t} (epoch ms) reaches events evicted from the online state (readable from ${this.readableFrom}); use the offline engine`,
      );
    const entity = this.entities.get(key);
    if (entity !== ABSENT) this.timeline.at(entity).read(t, out, offset);
    else
      for (let r = 0; r < this.names.length; r++)
        out[offset + r] = emptyValue(this.group.aggregations[r]!.fn);
  }

  /** Features of `key` as of t, by name. */
  readRecord(key: string, t: number): Record<string, unknown> {
    const values: unknown[] = new Array(this.names.length);
    this.read(key, t, values);
    return Object.fromEntries(this.names.map((name, i) => [name, values[i]]));
  }

  /** One entity's events as stored (copies), or null when it has none: for stores that write entity by entity. */
  entityColumns(key: string): EntityColumns | null {
    const entity = this.entities.get(key);
    if (entity === ABSENT) return null;
    const timeline = this.timeline.at(entity);
    const n = timeline.n;
    const columns = {
      times: new Float64Array(n),
      seqs: new Float64Array(n),
      numeric: this.layout.numericFields.map(() => new Float64Array(n)),
      categorical: this.layout.categoricalFields.map(() => new Int32Array(n)),
    };
    timeline.copyTo(columns.times, columns.seqs, columns.numeric, columns.categorical, 0);
    return columns;
  }

  /** Every entity key held. */
  *keys(): IterableIterator<string> {
    for (const [key] of this.entities.entries()) yield key;
  }

  /**
   * Starts a snapshot of the group's state as plain data, for checkpoints (the dictionaries' values and every
   * entity's events), in two parts:
   * - this generator, whose steps yield `true`: the state must not change until it returns (the online processor
   *   holds back its applies). It notes which entities the snapshot holds and the order of their regions, and
   *   allocates the columns: sequential passes over typed columns only, in steps of HELD_STEP_FACTOR ×
   *   `entitiesPerStep` entities.
   * - the generator it returns, whose steps yield `false`: it copies the entities, and the state may change
   *   between its steps. An entity about to change that is not copied yet is copied first (timelineOf, evictIdle
   *   and forget, the only ways to an entity's events for writing, ask). It returns the state as it was when the
   *   first part returned.
   *
   * With `evictIdle`, the snapshot is of the state after evictIdle() at that moment: each entity evicts what it
   * holds past that moment's cutoff just before it is copied, which changes no read (evicting is what retention
   * does anyway) and leaves the entity as evictIdle() would have.
   *
   * Entities go to the output in the order they are copied; keys are packed in the order they were made, at the
   * copy's pace, and `keyOf` joins the two. Why: the first part used to fix each entity's place in the output
   * with its key and count, and to run evictIdle(): random accesses to a million entities that held applies back
   * for 0.7–0.85 s at the serve benchmark's scale (1M entities, 20M events); now 49–64 ms (measured). Entities
   * are copied in the order of their regions in the slab, not in the order they arrived: each one's events are
   * then next to the last one's, and the copy took 0.43 s instead of 1.4 s (measured at that scale). A restored
   * state keeps that order.
   */
  *beginSnapshot(
    entitiesPerStep: number,
    evictIdle: boolean,
  ): Generator<true, Generator<false, GroupSnapshot, void>, void> {
    if (this.beforeWrite)
      throw new Error(`feature group \`${this.group.name}\`: a snapshot is being copied already`);
    const entitySpan = this.shared.entities.span;
    // Entity + 1 by the place of its region (0: no region starts there).
    const entityAt = new Int32Array(this.shared.regionPlaces);
    // Key + 1 by entity (its key's index in `keys`) while the entity is still to be copied, else 0.
    const pending = new Int32Array(entitySpan);
    const size = this.entities.size;
    const keys: PackedKeys = {
      chars: new Uint16Array(this.entities.liveChars),
      lengths: new Int32Array(size),
      count: 0,
      charCount: 0,
    };
    yield true;
    let total = 0;
    const note = (entity: number): void => {
      const timeline = this.timeline.at(entity);
      total += timeline.n;
      entityAt[timeline.regionPlace] = entity + 1;
      pending[entity] = ++noted;
    };
    let noted = 0;
    const heldStep = entitiesPerStep * HELD_STEP_FACTOR;
    const keyEntries = this.entities.entrySpan;
    for (let from = 0; from < keyEntries; from += heldStep) {
      this.entities.forEachValue(note, from, from + heldStep);
      yield true;
    }
    // Keys are packed a range of entries at a time beside the copy: sequential, but ~30 ms in all at 1M keys.
    // The entries stay where they are while keys are only added. KeyIndex squeezes out dropped keys' entries
    // once they are half of them, which moves the rest: with dropped keys already (the offline sweep's), the
    // keys are all packed now; a key dropped during the copy has the rest packed first.
    let keysPacked = 0;
    const packKeys = (to: number): void => {
      const end = Math.min(to, keyEntries);
      if (end <= keysPacked) return;
      this.entities.packKeys(keys, keysPacked, end);
      keysPacked = end;
    };
    if (keyEntries > size) {
      packKeys(keyEntries);
      yield true;
    }
    const keyOf = new Int32Array(size);
    const counts = new Int32Array(size);
    // One column per step: allocating the columns took 8–13 ms at the serve benchmark's scale. Evictions make
    // the events fewer than `total`: the columns are cut to what was copied.
    const times = new Float64Array(total);
    yield true;
    const seqs = new Float64Array(total);
    yield true;
    const numeric: Float64Array[] = [];
    for (const _ of this.layout.numericFields) {
      numeric.push(new Float64Array(total));
      yield true;
    }
    const categorical: Int32Array[] = [];
    for (const _ of this.layout.categoricalFields) {
      categorical.push(new Int32Array(total));
      yield true;
    }
    const dictionarySizes = this.shared.dictionaries.map((d) => d.size);
    const { watermark } = this;
    const cutoff = evictIdle && this.retentionHorizonMs !== null ? this.cutoff : Number.NEGATIVE_INFINITY;
    let readableFrom = this.readableFrom;
    const evicted = { entities: [] as number[], prefixes: [] as PrefixSnapshot[] };
    let at = 0;
    let k = 0;
    const copy = (entity: number): void => {
      keyOf[k] = pending[entity]! - 1;
      pending[entity] = 0;
      const timeline = this.timeline.at(entity);
      if (timeline.oldestTime < cutoff) {
        this.evict(timeline, cutoff);
        readableFrom = Math.max(readableFrom, cutoff + this.layout.retention.spanMs);
      }
      const prefix = timeline.prefixSnapshot();
      if (prefix) {
        evicted.entities.push(k);
        evicted.prefixes.push(prefix);
      }
      counts[k++] = timeline.n;
      timeline.copyTo(times, seqs, numeric, categorical, at);
      at += timeline.n;
    };
    // Entities made from now on are not in the snapshot (and have numbers past the end of `pending`; one that
    // takes the number of an entity dropped meanwhile finds it copied).
    this.beforeWrite = (entity, dropping) => {
      if (dropping) packKeys(keyEntries);
      if (entity < entitySpan && pending[entity] !== 0) copy(entity);
    };
    const engine = this;
    return (function* copySteps(): Generator<false, GroupSnapshot, void> {
      try {
        let copied = 0;
        for (let p = 0; p < entityAt.length; p++) {
          const entity = entityAt[p]! - 1;
          if (entity < 0 || pending[entity] === 0) continue;
          copy(entity);
          if (++copied % entitiesPerStep === 0) {
            // Keys at the pace of the copy: as large a share of the entries as of the entities copied.
            packKeys(Math.floor((k / size) * keyEntries));
            yield false;
          }
        }
        packKeys(keyEntries);
      } finally {
        engine.beforeWrite = null;
      }
      const cut = <T extends Float64Array | Int32Array>(column: T): T =>
        (at === total ? column : column.subarray(0, at)) as T;
      return {
        dictionaries: engine.shared.dictionaries.map((d, c) => d.values.slice(0, dictionarySizes[c])),
        keyChars: keys.chars,
        keyLengths: keys.lengths,
        keyOf,
        counts,
        times: cut(times),
        seqs: cut(seqs),
        numeric: numeric.map(cut),
        categorical: categorical.map(cut),
        watermark,
        readableFrom,
        // In the order of the output: entities are numbered as they are copied, whoever copies them.
        evicted,
      };
    })();
  }

  /** Loads a snapshot into an empty engine; indexes are rebuilt by the reads that need them. */
  restore(snapshot: GroupSnapshot): void {
    if (this.entities.size || this.shared.dictionaries.some((d) => d.size))
      throw new Error(`feature group \`${this.group.name}\`: restore needs an empty engine`);
    snapshot.dictionaries.forEach((values, c) => {
      const dictionary = this.shared.dictionaries[c]!;
      for (const value of values) dictionary.idOf(value);
    });
    const { keyChars, keyLengths, keyOf, counts } = snapshot;
    const keyStarts = new Float64Array(keyLengths.length);
    for (let key = 1; key < keyLengths.length; key++)
      keyStarts[key] = keyStarts[key - 1]! + keyLengths[key - 1]!;
    const keys: string[] = new Array(keyLengths.length);
    let at = 0;
    for (let e = 0; e < keyLengths.length; e++) {
      const key = keyOf ? keyOf[e]! : e;
      keys[e] = keyFromChars(keyChars, keyStarts[key]!, keyLengths[key]!);
      const count = counts[e]!;
      this.timelineOf(keys[e]!, count).appendBatch(snapshot, at, at + count);
      at += count;
    }
    const evicted = snapshot.evicted;
    if (evicted)
      for (const [i, e] of evicted.entities.entries())
        this.timelineOf(keys[e]!, 0).restorePrefix(evicted.prefixes[i]!);
    this.watermark = snapshot.watermark ?? Number.NEGATIVE_INFINITY;
    this.readableFrom = snapshot.readableFrom ?? Number.NEGATIVE_INFINITY;
    if (this.retentionHorizonMs !== null)
      this.cutoff = this.watermark - this.retentionHorizonMs - this.layout.retention.spanMs;
  }

  /** Drops an entity's state (the offline sweep, once it has read every spine row of the entity). */
  forget(key: string): void {
    const entity = this.entities.get(key);
    if (entity === ABSENT) return;
    if (this.beforeWrite !== null) this.beforeWrite(entity, true);
    this.timeline.at(entity).release();
    this.entities.delete(key);
  }

  get entityCount(): number {
    return this.entities.size;
  }

  /** Latest event time applied for an entity (-Infinity if none). */
  latestTime(key: string): number {
    const entity = this.entities.get(key);
    return entity === ABSENT ? Number.NEGATIVE_INFINITY : this.timeline.at(entity).latestTime;
  }
}
