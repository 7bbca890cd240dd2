/**
 * The offline engine (architecture.md): a point-in-time training set for a view over a spine of (keys, time,
 * labels…). History comes from the project's log or from event files; DuckDB stages and sorts it out of core;
 * each feature group is swept entity by entity through the evaluation core; derived features are computed per
 * row by the view, as online. The event-time view uses all events; the as-served view only those whose arrival
 * time is <= t (semantics.md, "Online and offline agree").
 */
import { BIGINT, VARCHAR } from '@duckdb/node-api';
import { StreamContract } from '../../contracts/contract.js';
import type { Plan } from '../../definitions/plan.js';
import { readEventFile } from '../../ingest/files.js';
import { decodeStoredEvent, tableAsStream, textOrValue } from '../../ingest/intake.js';
import type { Log } from '../../log/log.js';
import { Core, UnknownNameError } from '../core/core.js';
import { fieldTypesOf } from '../core/layout.js';
import {
  createHistoryTables,
  type HistoryStats,
  loadFileHistory,
  loadLogHistory,
  REJECTS_TABLE,
} from './history.js';
import { readSpine } from './spine.js';
import { stagesOf } from './stage-plan.js';
import { quoteIdent, quoteText, Staging } from './staging.js';
import {
  defaultWorkers,
  type FeatureColumn,
  type GroupSweep,
  newFeatureColumn,
  type SweepResources,
  spineRowsByKey,
  sweepGroup,
} from './sweep.js';
import type { TableRow } from './sweep-worker.js';
import { columnKindOf, columnKindOfValues, type TrainingColumn, writeTrainingSet } from './training-set.js';

export type History =
  | { readonly kind: 'log'; readonly log: Log }
  /** stream or table → files, in arrival order. */
  | { readonly kind: 'files'; readonly files: Readonly<Record<string, readonly string[]>> };

export interface BackfillProgress {
  readonly phase: 'history' | 'features' | 'writing';
  /** Events loaded or swept so far in this phase. */
  readonly events: number;
  /** Events to sweep (known once the history is loaded), or null. */
  readonly total: number | null;
}

export interface BackfillOptions {
  readonly plan: Plan;
  readonly view: string;
  readonly spine: string;
  readonly out: string;
  readonly history: History;
  readonly asServed?: boolean;
  /** entity → spine column (default: the entity's key). */
  readonly keyColumns?: Readonly<Record<string, string>>;
  /** The spine's time column (default `ts`). */
  readonly timeColumn?: string;
  /** Set invalid spine rows aside (in the rejects file) instead of failing. */
  readonly skipInvalid?: boolean;
  /** Where refused history events and skipped spine rows go (default `<out>.rejects.ndjson`). */
  readonly rejectsFile?: string;
  /** DuckDB's memory before it spills to disk (e.g. `2GB`). */
  readonly memoryLimit?: string;
  readonly onProgress?: (progress: BackfillProgress) => void;
  /** Worker threads for the sweep (default: one per core for large histories, none for small ones). */
  readonly workers?: number;
}

export interface BackfillSummary {
  readonly out: string;
  readonly rows: number;
  readonly skippedRows: number;
  readonly eventsRead: number;
  readonly rejected: number;
  readonly duplicates: number;
  readonly rejectsFile: string | null;
  readonly seconds: number;
  readonly planHash: string;
  readonly view: string;
  readonly asServed: boolean;
  readonly positions: Record<string, number[]>;
}

export class BackfillError extends Error {
  readonly code = 'TRIBUTARY_BACKFILL';
}

function tablesOfView(plan: Plan, view: string): string[] {
  const groups = new Set(plan.views[view]!.features.map((f) => f.group));
  return [...new Set([...groups].flatMap((g) => plan.features[g]!.lookups.map((l) => l.table)))];
}

/** Reference-table rows go straight into the core (they are small); lookups read them as of each event's time. */
async function loadTables(plan: Plan, view: string, history: History): Promise<TableRow[]> {
  const tableRows: TableRow[] = [];
  for (const table of tablesOfView(plan, view)) {
    const stream = tableAsStream(plan, table)!;
    if (history.kind === 'log') {
      for (let p = 0; p < history.log.partitions(table); p++) {
        const end = history.log.endOffset(table, p);
        for (let offset = 0; offset < end; ) {
          const records = await history.log.read(table, p, offset, 10_000);
          if (!records.length) break;
          for (const record of records) {
            const stored = decodeStoredEvent(record.value);
            tableRows.push({ table, validFrom: stored.t, seq: record.sequence, row: stored.f });
          }
          offset = records[records.length - 1]!.offset + 1;
        }
      }
      continue;
    }
    const contract = new StreamContract(stream, { futureSkewMs: Number.POSITIVE_INFINITY });
    let seq = 0;
    for (const file of history.files[table] ?? []) {
      for await (const batch of readEventFile(file, stream.fields)) {
        for (const item of batch.items) {
          const plain = textOrValue(item);
          const value = 'text' in plain ? JSON.parse(plain.text) : plain.value;
          const checked = contract.check(value, Number.POSITIVE_INFINITY);
          if (checked.ok)
            tableRows.push({ table, validFrom: checked.event.time, seq: seq++, row: checked.event.fields });
        }
      }
    }
  }
  return tableRows;
}

/** True when some expression of the plan is a TypeScript function (which a worker thread cannot receive). */
function hasFunctions(plan: Plan): boolean {
  return (
    Object.values(plan.features).some((g) => g.where?.kind === 'function') ||
    Object.values(plan.views).some((v) => v.derived.some((d) => d.expression.kind === 'function'))
  );
}

/**
 * Computes the training set and returns its summary. DuckDB's errors about files (unreadable, malformed, a full
 * disk) come out as a BackfillError naming the files.
 */
export async function backfill(options: BackfillOptions): Promise<BackfillSummary> {
  try {
    return await run(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/^(IO|Invalid Input|Conversion|Binder|Parser|Out of Memory|Invalid) Error/.test(message))
      throw new BackfillError(
        `could not read or write the files (spine ${options.spine}, out ${options.out}): ${message}`,
        {
          cause: error,
        },
      );
    throw error;
  }
}

async function run(options: BackfillOptions): Promise<BackfillSummary> {
  const begin = performance.now();
  const { plan, history } = options;
  const asServed = options.asServed ?? false;
  const viewPlan = plan.views[options.view];
  if (!viewPlan) throw new UnknownNameError('view', options.view, Object.keys(plan.views));
  if (asServed && history.kind === 'files')
    throw new BackfillError(
      'the as-served view needs arrival times, which only the project log has: ingest the files with `tributary ingest` first, or drop --as-served',
    );
  const stages = stagesOf(plan, options.view);
  if (history.kind === 'files') {
    const known = new Set([...stages.map((s) => s.stream.name), ...tablesOfView(plan, options.view)]);
    for (const name of Object.keys(history.files))
      if (!known.has(name))
        throw new BackfillError(
          `--events ${name}: the view \`${options.view}\` does not read \`${name}\`; it reads ${[...known].join(', ')}`,
        );
    for (const name of known)
      if (!history.files[name]?.length)
        throw new BackfillError(
          `no events given for \`${name}\`, which the view \`${options.view}\` reads: add --events ${name}=<file or glob>`,
        );
  }
  const keyColumns = Object.fromEntries(
    viewPlan.entities.map((e) => [e, options.keyColumns?.[e] ?? plan.entities[e]!.key]),
  );
  for (const entity of Object.keys(options.keyColumns ?? {}))
    if (!viewPlan.entities.includes(entity))
      throw new BackfillError(
        `--key ${entity}=…: the view \`${options.view}\` has entities ${viewPlan.entities.join(', ')}`,
      );

  const progress = options.onProgress ?? (() => {});
  const staging = await Staging.open(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {});
  try {
    const spine = await readSpine(staging, options.spine, {
      keyColumns,
      timeColumn: options.timeColumn ?? 'ts',
      skipInvalid: options.skipInvalid ?? false,
    });
    const taken = new Set([...spine.columns]);
    for (const feature of viewPlan.features)
      if (taken.has(feature.name))
        throw new BackfillError(
          `the spine has a column \`${feature.name}\`, which is also a feature of \`${options.view}\`: rename it`,
        );

    await createHistoryTables(staging, stages);
    const stats: HistoryStats = { events: 0, rejected: 0, duplicates: 0, positions: {} };
    let loaded = 0;
    const onLoaded = (n: number) => {
      loaded += n;
      progress({ phase: 'history', events: loaded, total: null });
    };
    if (history.kind === 'log') await loadLogHistory(staging, stages, history.log, stats, onLoaded);
    else
      for (const stage of stages)
        await loadFileHistory(
          staging,
          stage,
          { stream: stage.stream, files: history.files[stage.stream.name]! },
          stats,
          onLoaded,
        );

    const core = new Core(plan);
    const tableRows = await loadTables(plan, options.view, history);
    for (const r of tableRows) core.addTableRow(r.table, r.validFrom, r.seq, r.row);
    const view = core.view(options.view);
    const rows = spine.rowCount;
    const columns: FeatureColumn[] = view.features.map((f) =>
      newFeatureColumn(f.group.group.aggregations[f.index]!.fn, rows),
    );

    // Sweep each group; every group's events count once per group in the progress total.
    const sweeps: GroupSweep[] = [];
    for (const group of new Set(view.features.map((f) => f.group))) {
      const stage = stages.find((s) => s.stream.name === group.group.stream)!;
      const outputs = group.names.map((_, a) => {
        const at = view.features.findIndex((f) => f.group === group && f.index === a);
        return at >= 0 ? columns[at]! : null;
      });
      sweeps.push({
        group,
        stage,
        entityIndex: stage.entities.indexOf(group.group.entity),
        outputs,
        asServed,
      });
    }
    let total = 0;
    for (const s of sweeps) total += Number(await staging.scalar(`SELECT count(*) FROM ${s.stage.table}`));
    const resources: SweepResources = {
      plan,
      tableRows,
      // Definitions with TypeScript functions cannot cross to a worker thread: those sweep here.
      workers: hasFunctions(plan) ? 0 : (options.workers ?? defaultWorkers(total)),
    };
    let swept = 0;
    for (const sweep of sweeps) {
      const byKey = spineRowsByKey(spine.keys[sweep.group.group.entity]!, spine.times);
      await sweepGroup(staging, sweep, resources, byKey, spine.times, (n) => {
        swept += n;
        progress({ phase: 'features', events: swept, total });
      });
    }

    const training: TrainingColumn[] = view.features.map((f, i) => ({
      name: f.name,
      kind: columnKindOf(f.group.group.aggregations[f.index]!, fieldTypesOf(plan, f.group.group)),
      values: columns[i]!,
    }));
    if (view.hasDerived)
      training.push(
        ...(await deriveColumns(staging, core, options.view, spine.relation, spine.columns, columns, rows)),
      );

    progress({ phase: 'writing', events: swept, total });
    const skipped = new Set(spine.skipped.map((s) => s.row - 1));
    await writeTrainingSet(staging, {
      out: options.out,
      spineRelation: spine.relation,
      rowCount: rows,
      skipped,
      columns: training,
      metadata: {
        'tributary.plan_hash': plan.hash,
        'tributary.view': options.view,
        'tributary.as_served': String(asServed),
        'tributary.history': history.kind,
        'tributary.log_positions': JSON.stringify(stats.positions),
      },
    });

    const rejectsFile = options.rejectsFile ?? `${options.out}.rejects.ndjson`;
    const historyRejects = Number(await staging.scalar(`SELECT count(*) FROM ${REJECTS_TABLE}`));
    let wroteRejects = false;
    if (historyRejects > 0 || spine.skipped.length > 0) {
      await staging.run(`CREATE TABLE spine_rejects (row BIGINT, reason VARCHAR)`);
      const appender = await staging.columnAppender('spine_rejects', [BIGINT, VARCHAR]);
      for (const s of spine.skipped) appender.push([BigInt(s.row), s.reason]);
      appender.close();
      await staging.run(
        `COPY (SELECT 'history' AS kind, stream, source, line, reason, detail, raw FROM ${REJECTS_TABLE}
           UNION ALL SELECT 'spine', NULL, ${quoteText(options.spine)}, row, 'invalid_spine_row', reason, NULL FROM spine_rejects
           ORDER BY kind, source, line) TO ${quoteText(rejectsFile)} (FORMAT json)`,
      );
      wroteRejects = true;
    }
    return {
      out: options.out,
      rows: rows - skipped.size,
      skippedRows: skipped.size,
      eventsRead: stats.events,
      rejected: stats.rejected,
      duplicates: stats.duplicates,
      rejectsFile: wroteRejects ? rejectsFile : null,
      seconds: (performance.now() - begin) / 1000,
      planHash: plan.hash,
      view: options.view,
      asServed,
      positions: stats.positions,
    };
  } finally {
    staging.close();
  }
}

/** Derived features, row by row, over the group features and the request inputs the spine carries by name. */
async function deriveColumns(
  staging: Staging,
  core: Core,
  viewName: string,
  relation: string,
  spineColumns: readonly string[],
  columns: readonly FeatureColumn[],
  rows: number,
): Promise<TrainingColumn[]> {
  const view = core.view(viewName);
  const requestFields = Object.keys(view.view.request).filter((f) => spineColumns.includes(f));
  const requests: Record<string, unknown>[] = [];
  if (requestFields.length) {
    for await (const chunk of staging.chunks(
      `SELECT ${requestFields.map(quoteIdent).join(', ')} FROM ${relation}`,
    )) {
      for (let i = 0; i < chunk.rowCount; i++) {
        const request: Record<string, unknown> = {};
        requestFields.forEach((f, c) => {
          const v = chunk.columns[c]![i];
          request[f] = typeof v === 'bigint' ? Number(v) : v;
        });
        requests.push(request);
      }
    }
  }
  const derived = view.view.derived.map(() => new Array<unknown>(rows).fill(null));
  const names = view.features.map((f) => f.name);
  for (let r = 0; r < rows; r++) {
    const vector: Record<string, unknown> = {};
    for (let c = 0; c < names.length; c++) {
      const v = columns[c]![r];
      vector[names[c]!] = typeof v === 'number' && Number.isNaN(v) ? null : v;
    }
    view.derive(vector, requests[r] ?? {});
    view.view.derived.forEach((d, i) => {
      derived[i]![r] = vector[d.name];
    });
  }
  return view.view.derived.map((d, i) => ({
    name: d.name,
    kind: columnKindOfValues(derived[i]!),
    values: derived[i]!,
  }));
}
