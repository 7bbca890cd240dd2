/**
 * What the offline engine stages of each stream a view reads: the entity keys its groups need, the numeric and
 * categorical fields their aggregations read, and, for a group with a filter or lookups, the whole event.
 * Staged tables have the columns: seq, arrival, t, id, k0…, n0…, c0…, and row (the event as JSON) when needed.
 */
import type { Plan, StreamPlan, ValueType } from '../../definitions/plan.js';
import { buildLayout } from '../core/layout.js';

export interface StreamStage {
  readonly stream: StreamPlan;
  /** The staging table. */
  readonly table: string;
  /** Entities whose keys are staged (column k<i>). */
  readonly entities: readonly string[];
  /** Fields staged as DOUBLE (n<i>; null for a non-number). */
  readonly numeric: readonly string[];
  /** Fields staged as text (c<i>): a string as is, any other value as JSON. */
  readonly categorical: readonly string[];
  readonly categoricalTypes: readonly ValueType[];
  /** True when some group needs the whole event (a filter or lookups): column `row`, JSON. */
  readonly rows: boolean;
}

/** The stages of the streams that a view's groups read, in a stable order. */
export function stagesOf(plan: Plan, viewName: string): StreamStage[] {
  const view = plan.views[viewName]!;
  const groups = [...new Set(view.features.map((f) => f.group))].map((g) => plan.features[g]!);
  const stages = new Map<
    string,
    { entities: Set<string>; numeric: Set<string>; categorical: Set<string>; rows: boolean }
  >();
  for (const group of groups) {
    const stage = stages.get(group.stream) ?? {
      entities: new Set<string>(),
      numeric: new Set<string>(),
      categorical: new Set<string>(),
      rows: false,
    };
    stage.entities.add(group.entity);
    if (group.where || group.lookups.length) stage.rows = true;
    else {
      const layout = buildLayout(plan, group);
      for (const f of layout.numericFields) stage.numeric.add(f);
      for (const f of layout.categoricalFields) stage.categorical.add(f);
    }
    stages.set(group.stream, stage);
  }
  return [...stages].map(([name, s], i) => {
    const stream = plan.streams[name]!;
    const categorical = [...s.categorical];
    return {
      stream,
      table: `events_${i}`,
      entities: [...s.entities],
      numeric: [...s.numeric],
      categorical,
      categoricalTypes: categorical.map((f) => stream.fields.find((x) => x.name === f)?.type ?? 'any'),
      rows: s.rows,
    };
  });
}

/** The staging table's DDL. */
export function stageColumnsSql(stage: StreamStage): string {
  return [
    'seq DOUBLE',
    'arrival DOUBLE',
    't DOUBLE',
    'id VARCHAR',
    ...stage.entities.map((_, i) => `k${i} VARCHAR`),
    ...stage.numeric.map((_, i) => `n${i} DOUBLE`),
    ...stage.categorical.map((_, i) => `c${i} VARCHAR`),
    ...(stage.rows ? ['row VARCHAR'] : []),
  ].join(', ');
}

/** A categorical value as staged: a string as is when the field is a string, anything else as JSON. */
export function encodeCategorical(value: unknown, type: ValueType): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'string' && typeof value === 'string') return value;
  return JSON.stringify(value);
}

export function decodeCategorical(text: string | null, type: ValueType): unknown {
  if (text === null) return null;
  return type === 'string' ? text : JSON.parse(text);
}
