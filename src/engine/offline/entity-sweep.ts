/**
 * One entity's part of the offline sweep, shared by the main thread and the sweep workers: its events go into
 * the core's group engine (all of them for the event-time view; for the as-served view, before each read, those
 * that had arrived by then), the engine answers each of the entity's spine rows, and the state is dropped.
 */
import type { FeatureGroupEngine } from '../core/group-engine.js';
import type { StreamStage } from './stage-plan.js';

/** One entity's events as columns (categorical values decoded; `rows` holds whole events as JSON when staged). */
export interface EntityEventColumns {
  readonly length: number;
  readonly times: Float64Array;
  readonly seqs: Float64Array;
  readonly arrivals: Float64Array;
  readonly numeric: readonly Float64Array[];
  /** Codes into the stage's dictionaries (-1 = null). */
  readonly categorical: readonly Float64Array[];
  readonly rows: readonly string[];
}

export interface EntityTask {
  readonly key: string;
  readonly events: EntityEventColumns;
  /** The entity's spine rows, in time order, and their times. */
  readonly spineRows: Int32Array;
  readonly spineTimes: Float64Array;
}

/** Values of each categorical column by code. */
export type Dictionaries = readonly (readonly unknown[])[];

/** Computes one entity's spine rows; `emit(row, values)` receives the group's values in aggregation order. */
export function computeEntity(
  group: FeatureGroupEngine,
  stage: StreamStage,
  dictionaries: Dictionaries,
  asServed: boolean,
  task: EntityTask,
  values: unknown[],
  emit: (row: number, values: readonly unknown[]) => void,
): void {
  const { key, events, spineRows, spineTimes } = task;
  if (asServed) applyAsServed(group, stage, dictionaries, task, values, emit);
  else {
    applyAll(group, key, events, stage, dictionaries);
    for (let r = 0; r < spineRows.length; r++) {
      group.read(key, spineTimes[r]!, values);
      emit(spineRows[r]!, values);
    }
  }
  group.forget(key);
}

/** Event-time view: the entity's whole history, then reads at any t. */
function applyAll(
  group: FeatureGroupEngine,
  key: string,
  events: EntityEventColumns,
  stage: StreamStage,
  dictionaries: Dictionaries,
): void {
  if (stage.rows) {
    for (let i = 0; i < events.length; i++)
      group.addKeyed(key, {
        time: events.times[i]!,
        seq: events.seqs[i]!,
        fields: JSON.parse(events.rows[i]!),
      });
    return;
  }
  const fields: Record<string, Float64Array | unknown[]> = {};
  stage.numeric.forEach((name, n) => {
    fields[name] = events.numeric[n]!.subarray(0, events.length);
  });
  stage.categorical.forEach((name, n) => {
    const codes = events.categorical[n]!;
    const dictionary = dictionaries[n]!;
    const column: unknown[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) column[i] = codes[i]! < 0 ? null : dictionary[codes[i]!];
    fields[name] = column;
  });
  group.addEntityColumns(key, {
    length: events.length,
    times: events.times.subarray(0, events.length),
    seqs: events.seqs.subarray(0, events.length),
    fields,
  });
}

/** As-served view: before reading at t, only the events that had arrived by t, applied in arrival order. */
function applyAsServed(
  group: FeatureGroupEngine,
  stage: StreamStage,
  dictionaries: Dictionaries,
  task: EntityTask,
  values: unknown[],
  emit: (row: number, values: readonly unknown[]) => void,
): void {
  const { key, events, spineRows, spineTimes } = task;
  let next = 0;
  const fields: Record<string, unknown> = {};
  for (let r = 0; r < spineRows.length; r++) {
    const t = spineTimes[r]!;
    for (; next < events.length && events.arrivals[next]! <= t; next++) {
      let eventFields: Record<string, unknown> = fields;
      if (stage.rows) eventFields = JSON.parse(events.rows[next]!);
      else {
        stage.numeric.forEach((name, n) => {
          const v = events.numeric[n]![next]!;
          fields[name] = Number.isNaN(v) ? null : v;
        });
        stage.categorical.forEach((name, n) => {
          const code = events.categorical[n]![next]!;
          fields[name] = code < 0 ? null : dictionaries[n]![code];
        });
      }
      group.addKeyed(key, { time: events.times[next]!, seq: events.seqs[next]!, fields: eventFields });
    }
    group.read(key, t, values);
    emit(spineRows[r]!, values);
  }
}
