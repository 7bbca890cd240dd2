/**
 * What a feature group's timelines store, derived once from its plan: numeric columns (Float64, NaN = null),
 * categorical columns (interned Int32 ids, -1 = null), which indexes each needs, the distinct windows, and
 * for each aggregation where its inputs live. Shared by all entities of the group.
 */
import { groupFieldTypes } from '../../definitions/compile.js';
import type {
  AggregationFn,
  AggregationPlan,
  FeatureGroupPlan,
  Plan,
  ValueType,
} from '../../definitions/plan.js';

export interface ColumnRef {
  readonly kind: 'num' | 'cat';
  readonly index: number;
  readonly field: string;
}

export interface WindowSpec {
  readonly windowMs: number | null;
  readonly bucketMs: number | null;
}

export interface AggregationReader {
  readonly index: number;
  readonly name: string;
  readonly fn: AggregationFn;
  readonly window: number; // index into windows
  readonly summarySlot: number; // numeric summary (column × window) slot, or -1
  readonly numColumn: number; // numeric input column, or -1
  readonly catColumn: number; // categorical input column, or -1
  readonly presence: number; // presence set for first/last/K, or -1
  readonly values: readonly ColumnRef[]; // first/last/K outputs
  readonly k: number;
  readonly q: number;
}

export interface PresenceSpec {
  readonly columns: readonly ColumnRef[];
}

export interface TimelineLayout {
  readonly numericFields: readonly string[];
  readonly categoricalFields: readonly string[];
  readonly treeColumns: readonly boolean[]; // numeric columns that carry tiles
  readonly distinctColumns: readonly boolean[]; // categorical columns with an exact distinct index
  readonly hllColumns: readonly boolean[]; // categorical columns with a sliding HyperLogLog
  readonly distinctColumnList: readonly number[]; // the same, as lists of column indexes
  readonly hllColumnList: readonly number[];
  readonly windows: readonly WindowSpec[];
  readonly summarySlots: readonly { readonly column: number; readonly window: number }[];
  readonly presence: readonly PresenceSpec[];
  readonly readers: readonly AggregationReader[];
  readonly retention: RetentionSpec;
}

/**
 * What a timeline may forget (online retention): windowed reads reach back at most `spanMs` (the longest window
 * plus its bucket) before a read time; all-history aggregations read evicted events through running aggregates:
 * a count, a numeric summary per all-history slot, and per first/last set the first `firstK[p]` and last
 * `lastK[p]` rows. `supported` is false when an all-history aggregation needs every event (countDistinct,
 * approxCountDistinct, approxQuantile): such a group keeps all its events.
 */
export interface RetentionSpec {
  readonly spanMs: number;
  readonly supported: boolean;
  readonly firstK: readonly number[];
  readonly lastK: readonly number[];
}

const SUMMARY_FNS = new Set<AggregationFn>(['sum', 'mean', 'min', 'max', 'stddev', 'variance']);

/** All-history aggregations whose evicted events fold into running aggregates. */
const FOLDABLE_FNS = new Set<AggregationFn>([
  'count',
  ...SUMMARY_FNS,
  'first',
  'last',
  'firstK',
  'lastK',
  'timeSinceFirst',
  'timeSinceLast',
]);

function retentionOf(
  readers: readonly AggregationReader[],
  windows: readonly WindowSpec[],
  presenceSets: number,
): RetentionSpec {
  let spanMs = 0;
  let supported = true;
  const firstK = new Array<number>(presenceSets).fill(0);
  const lastK = new Array<number>(presenceSets).fill(0);
  for (const reader of readers) {
    const { windowMs, bucketMs } = windows[reader.window]!;
    if (windowMs !== null) {
      spanMs = Math.max(spanMs, windowMs + (bucketMs ?? 0));
      continue;
    }
    if (!FOLDABLE_FNS.has(reader.fn)) supported = false;
    if (reader.fn === 'first' || reader.fn === 'firstK')
      firstK[reader.presence] = Math.max(firstK[reader.presence]!, reader.k);
    if (reader.fn === 'last' || reader.fn === 'lastK')
      lastK[reader.presence] = Math.max(lastK[reader.presence]!, reader.k);
  }
  return { spanMs, supported, firstK, lastK };
}

/** The type of each field a group's events carry (stream fields, then `alias.field` for lookups). */
export function fieldTypesOf(plan: Plan, group: FeatureGroupPlan): Map<string, ValueType> {
  return groupFieldTypes(plan.streams[group.stream], [...group.lookups], plan.tables);
}

export function buildLayout(plan: Plan, group: FeatureGroupPlan): TimelineLayout {
  const types = fieldTypesOf(plan, group);
  const numericFields: string[] = [];
  const categoricalFields: string[] = [];
  const treeColumns: boolean[] = [];
  const distinctColumns: boolean[] = [];
  const hllColumns: boolean[] = [];
  const column = (field: string, kind: 'num' | 'cat'): ColumnRef => {
    const list = kind === 'num' ? numericFields : categoricalFields;
    let index = list.indexOf(field);
    if (index < 0) {
      index = list.push(field) - 1;
      if (kind === 'num') treeColumns.push(false);
      else {
        distinctColumns.push(false);
        hllColumns.push(false);
      }
    }
    return { kind, index, field };
  };
  const windows: WindowSpec[] = [];
  const windowOf = (agg: AggregationPlan): number => {
    const found = windows.findIndex((w) => w.windowMs === agg.windowMs && w.bucketMs === agg.bucketMs);
    return found >= 0 ? found : windows.push({ windowMs: agg.windowMs, bucketMs: agg.bucketMs }) - 1;
  };
  const summarySlots: { column: number; window: number }[] = [];
  const presence: PresenceSpec[] = [];
  const presenceKeys: string[] = [];
  const readers: AggregationReader[] = [];

  for (const agg of group.aggregations) {
    const window = windowOf(agg);
    let numColumn = -1;
    let catColumn = -1;
    let summarySlot = -1;
    let presenceIndex = -1;
    let values: ColumnRef[] = [];
    if (SUMMARY_FNS.has(agg.fn) || agg.fn === 'approxQuantile') {
      numColumn = column(agg.fields[0]!, 'num').index;
      if (agg.fn !== 'approxQuantile') {
        treeColumns[numColumn] = true;
        summarySlot = summarySlots.findIndex((s) => s.column === numColumn && s.window === window);
        if (summarySlot < 0) summarySlot = summarySlots.push({ column: numColumn, window }) - 1;
      }
    } else if (agg.fn === 'countDistinct' || agg.fn === 'approxCountDistinct') {
      catColumn = column(agg.fields[0]!, 'cat').index;
      if (agg.fn === 'countDistinct') distinctColumns[catColumn] = true;
      else hllColumns[catColumn] = true;
    } else if (agg.fn === 'first' || agg.fn === 'last' || agg.fn === 'firstK' || agg.fn === 'lastK') {
      values = agg.fields.map((f) => column(f, types.get(f) === 'double' ? 'num' : 'cat'));
      const key = values.map((v) => `${v.kind}${v.index}`).join(',');
      presenceIndex = presenceKeys.indexOf(key);
      if (presenceIndex < 0) {
        presenceKeys.push(key);
        presenceIndex = presence.push({ columns: values }) - 1;
      }
    }
    readers.push({
      index: readers.length,
      name: agg.name,
      fn: agg.fn,
      window,
      summarySlot,
      numColumn,
      catColumn,
      presence: presenceIndex,
      values,
      k: agg.k ?? (agg.fn === 'first' || agg.fn === 'last' ? 1 : 0),
      q: agg.q ?? 0,
    });
  }
  return {
    numericFields,
    categoricalFields,
    treeColumns,
    distinctColumns,
    hllColumns,
    distinctColumnList: distinctColumns.flatMap((needed, c) => (needed ? [c] : [])),
    hllColumnList: hllColumns.flatMap((needed, c) => (needed ? [c] : [])),
    windows,
    summarySlots,
    presence,
    readers,
    retention: retentionOf(readers, windows, presence.length),
  };
}

/** A feature's value over an empty window, or for an entity never seen (semantics.md). */
export function emptyValue(fn: AggregationFn): unknown {
  switch (fn) {
    case 'count':
    case 'sum':
    case 'countDistinct':
    case 'approxCountDistinct':
      return 0;
    case 'firstK':
    case 'lastK':
      return [];
    default:
      return null;
  }
}
