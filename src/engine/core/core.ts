/**
 * The evaluation core for a whole plan: one FeatureGroupEngine per group, reference tables, and one ViewEngine
 * per view. Both runtimes drive this: online feeds events as they arrive, offline as it sweeps history.
 * Pure: no I/O, no clock; time is always an argument.
 */
import type { Plan } from '../../definitions/plan.js';
import { finish } from '../../util/steps.js';
import type { CoreEvent } from './event.js';
import { type DecodedRows, FeatureGroupEngine, type GroupSnapshot } from './group-engine.js';
import { keyString } from './keys.js';
import { ReferenceTables, type TableRowSnapshot } from './reference-tables.js';
import { type Vector, ViewEngine } from './view-engine.js';

export class UnknownNameError extends Error {
  readonly code = 'TRIBUTARY_UNKNOWN_NAME';
  constructor(kind: string, name: string, known: readonly string[]) {
    super(`unknown ${kind} \`${name}\`; known: ${known.join(', ') || 'none'}`);
    this.name = 'UnknownNameError';
  }
}

export interface CoreSnapshot {
  readonly planHash: string;
  readonly groups: Readonly<Record<string, GroupSnapshot>>;
  readonly tables: readonly TableRowSnapshot[];
}

export class Core {
  readonly tables = new ReferenceTables();
  readonly groups = new Map<string, FeatureGroupEngine>();
  private readonly groupsByStream = new Map<string, FeatureGroupEngine[]>();
  private readonly views = new Map<string, ViewEngine>();

  /**
   * `retention` (the online runtime): each group forgets events older than its latest event time minus the
   * longest horizon of the views that read it and its longest window, keeping running aggregates for its
   * all-history aggregations. The offline engine keeps everything.
   */
  constructor(
    readonly plan: Plan,
    options: { readonly retention?: boolean } = {},
  ) {
    for (const group of Object.values(plan.features)) {
      const engine = new FeatureGroupEngine(plan, group, this.tables);
      if (options.retention) {
        const horizons = Object.values(plan.views)
          .filter((v) => v.features.some((f) => f.group === group.name))
          .map((v) => v.horizonMs);
        if (horizons.length) engine.enableRetention(Math.max(...horizons));
      }
      this.groups.set(group.name, engine);
      const list = this.groupsByStream.get(group.stream) ?? [];
      list.push(engine);
      this.groupsByStream.set(group.stream, list);
    }
    for (const view of Object.values(plan.views))
      this.views.set(view.name, new ViewEngine(plan, view, this.groups));
  }

  /** Applies one (validated, de-duplicated) event of a stream to every group that reads the stream. */
  addEvent(stream: string, event: CoreEvent): void {
    const groups = this.groupsByStream.get(stream);
    if (!groups) {
      if (!(stream in this.plan.streams))
        throw new UnknownNameError('stream', stream, Object.keys(this.plan.streams));
      return;
    }
    for (let g = 0; g < groups.length; g++) groups[g]!.add(event);
  }

  /**
   * The fields to decode for `stream` when its events may be applied as columns (addDecoded): every group reading
   * it takes columns (no filter, no lookups). Null otherwise.
   */
  columnFields(stream: string): { numeric: string[]; values: string[] } | null {
    const groups = this.groupsByStream.get(stream) ?? [];
    if (!groups.length || !groups.every((g) => g.takesColumns)) return null;
    const numeric = new Set<string>();
    const values = new Set<string>();
    for (const group of groups) {
      for (const f of group.columnFields.numeric) numeric.add(f);
      for (const f of group.columnFields.values) values.add(f);
    }
    return { numeric: [...numeric], values: [...values] };
  }

  /** Applies a stream's events given as columns (see columnFields), in order. */
  addDecoded(stream: string, rows: DecodedRows): void {
    for (const group of this.groupsByStream.get(stream) ?? []) group.addDecoded(rows);
  }

  /** Adds a reference-table row version (valid from its validFrom field). */
  addTableRow(table: string, validFrom: number, seq: number, row: Readonly<Record<string, unknown>>): void {
    const plan = this.plan.tables[table];
    if (!plan) throw new UnknownNameError('table', table, Object.keys(this.plan.tables));
    const key = keyString(row[plan.keyField]);
    if (key === null) throw new Error(`table \`${table}\` row has no key \`${plan.keyField}\``);
    this.tables.put(table, key, validFrom, seq, row);
  }

  /** Evicts, in every group, what entities not updated lately hold beyond retention. */
  evictIdle(): void {
    for (const group of this.groups.values()) group.evictIdle();
  }

  /** The whole state as plain data (typed arrays inside), for checkpoints; carries the plan's hash. */
  snapshot(): CoreSnapshot {
    return finish(this.snapshotSteps(Number.POSITIVE_INFINITY, false));
  }

  /**
   * snapshot() in steps of about `entitiesPerStep` entities. Steps that yield `true` need the state unchanged
   * (the online processor holds back its applies); once a step yields `false`, the state may change between steps,
   * and the snapshot is still of the state as it was then (FeatureGroupEngine.beginSnapshot). With `evictIdle`,
   * it is of the state after evictIdle() at that moment (each entity evicts as it is copied).
   */
  *snapshotSteps(entitiesPerStep: number, evictIdle: boolean): Generator<boolean, CoreSnapshot, void> {
    const copies: [string, Generator<false, GroupSnapshot, void>][] = [];
    for (const [name, group] of this.groups)
      copies.push([name, yield* group.beginSnapshot(entitiesPerStep, evictIdle)]);
    const tables = this.tables.snapshot();
    const groups: Record<string, GroupSnapshot> = {};
    for (const [name, copy] of copies) groups[name] = yield* copy;
    return { planHash: this.plan.hash, groups, tables };
  }

  /** Loads a snapshot of the same plan into this (empty) core. */
  restore(snapshot: CoreSnapshot): void {
    if (snapshot.planHash !== this.plan.hash)
      throw new Error(
        `the snapshot is of plan ${snapshot.planHash}, not ${this.plan.hash}: rebuild from the log`,
      );
    for (const [name, group] of this.groups) {
      const state = snapshot.groups[name];
      if (state) group.restore(state);
    }
    for (const r of snapshot.tables) this.tables.put(r.table, r.key, r.validFrom, r.seq, r.row);
  }

  view(name: string): ViewEngine {
    const view = this.views.get(name);
    if (!view) throw new UnknownNameError('view', name, [...this.views.keys()]);
    return view;
  }

  /** The vector of a view for entity keys as of t (events with time < t). */
  read(
    view: string,
    keys: Readonly<Record<string, string>>,
    t: number,
    request?: Readonly<Record<string, unknown>>,
  ): Vector {
    return this.view(view).read(keys, t, request);
  }
}
