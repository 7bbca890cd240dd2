/**
 * Loads a view's history into the staging database: from the project's log (events already checked and
 * de-duplicated at intake, with their arrival times and sequences) or from event files (NDJSON, CSV, Parquet;
 * arrival sequence = order of files and rows). File events are checked against their stream's contract; those
 * that break it go to the rejects table with their reason, and copies of an id after its first valid one are
 * dropped and counted (semantics.md). A Parquet file whose columns carry the schema's types is checked column-wise
 * inside DuckDB; any other file goes event by event through the same contract the intake uses.
 */
import { DOUBLE, VARCHAR } from '@duckdb/node-api';
import { StreamContract, type ValidEvent } from '../../contracts/contract.js';
import type { StreamPlan } from '../../definitions/plan.js';
import { formatOf, type ItemBatch, readEventFile } from '../../ingest/files.js';
import { decodeStoredEvent, textOrValue } from '../../ingest/intake.js';
import type { Log } from '../../log/log.js';
import { parquetCheck } from './parquet-check.js';
import { encodeCategorical, type StreamStage, stageColumnsSql } from './stage-plan.js';
import { type ColumnAppender, quoteText, type Staging } from './staging.js';

export interface HistoryStats {
  events: number;
  rejected: number;
  duplicates: number;
  /** Log positions read: stream → partition → end offset (exclusive). */
  readonly positions: Record<string, number[]>;
}

export const REJECTS_TABLE = 'rejects';

export async function createHistoryTables(staging: Staging, stages: readonly StreamStage[]): Promise<void> {
  for (const stage of stages) await staging.run(`CREATE TABLE ${stage.table} (${stageColumnsSql(stage)})`);
  await staging.run(
    `CREATE TABLE ${REJECTS_TABLE} (stream VARCHAR, source VARCHAR, line BIGINT, reason VARCHAR, detail VARCHAR, raw VARCHAR)`,
  );
}

function stageTypes(stage: StreamStage) {
  return [
    DOUBLE,
    DOUBLE,
    DOUBLE,
    VARCHAR,
    ...stage.entities.map(() => VARCHAR),
    ...stage.numeric.map(() => DOUBLE),
    ...stage.categorical.map(() => VARCHAR),
    ...(stage.rows ? [VARCHAR] : []),
  ];
}

/** Writes one event's staged row. */
function stageRow(
  stage: StreamStage,
  out: ColumnAppender,
  row: unknown[],
  seq: number,
  arrival: number,
  time: number,
  fields: Readonly<Record<string, unknown>>,
): void {
  const { stream } = stage;
  let c = 0;
  row[c++] = seq;
  row[c++] = arrival;
  row[c++] = time;
  const id = stream.idField === undefined ? null : fields[stream.idField];
  row[c++] = id === null || id === undefined ? null : String(id);
  for (const entity of stage.entities) {
    const key = fields[stream.keys[entity]!];
    row[c++] = key === null || key === undefined || key === '' ? null : String(key);
  }
  for (const name of stage.numeric) {
    const value = fields[name];
    row[c++] = typeof value === 'number' ? value : null;
  }
  for (let i = 0; i < stage.categorical.length; i++)
    row[c++] = encodeCategorical(fields[stage.categorical[i]!], stage.categoricalTypes[i]!);
  if (stage.rows) row[c++] = JSON.stringify(fields);
  out.push(row as never);
}

/** Reads every partition of each staged stream from the log, up to its end when the backfill started. */
export async function loadLogHistory(
  staging: Staging,
  stages: readonly StreamStage[],
  log: Log,
  stats: HistoryStats,
  progress: (events: number) => void,
): Promise<void> {
  for (const stage of stages) {
    const name = stage.stream.name;
    const partitions = log.partitions(name);
    const ends = Array.from({ length: partitions }, (_, p) => log.endOffset(name, p));
    stats.positions[name] = ends;
    const out = await staging.columnAppender(stage.table, stageTypes(stage));
    const row: unknown[] = [];
    try {
      for (let p = 0; p < partitions; p++) {
        for (let offset = 0; offset < ends[p]!; ) {
          const records = await log.read(name, p, offset, Math.min(10_000, ends[p]! - offset));
          if (!records.length) break;
          for (const record of records) {
            const stored = decodeStoredEvent(record.value);
            stageRow(stage, out, row, record.sequence, record.arrivalTime, stored.t, stored.f);
          }
          offset = records[records.length - 1]!.offset + 1;
          stats.events += records.length;
          progress(records.length);
        }
      }
    } finally {
      out.close();
    }
  }
}

export interface EventFiles {
  readonly stream: StreamPlan;
  readonly files: readonly string[];
}

/**
 * Loads event files of one stream, in order; arrival sequences continue across files. Arrival times are
 * unknown for files (null in staging), so files serve the event-time view only.
 */
export async function loadFileHistory(
  staging: Staging,
  stage: StreamStage,
  input: EventFiles,
  stats: HistoryStats,
  progress: (events: number) => void,
): Promise<void> {
  const contract = new StreamContract(input.stream);
  let seq = 0;
  for (const file of input.files) {
    const fast = formatOf(file) === 'parquet' ? await parquetCheck(staging, stage, file) : null;
    if (fast) {
      const before = Number(await staging.scalar(`SELECT count(*) FROM ${stage.table}`));
      await staging.run(fast.insertSql(seq));
      const after = Number(await staging.scalar(`SELECT count(*) FROM ${stage.table}`));
      await staging.run(fast.rejectsSql(REJECTS_TABLE));
      const total = Number(await staging.scalar(`SELECT count(*) FROM read_parquet(${quoteText(file)})`));
      stats.events += after - before;
      stats.rejected += total - (after - before);
      seq += total;
      progress(total);
      continue;
    }
    const out = await staging.columnAppender(stage.table, stageTypes(stage));
    const rejects = await staging.columnAppender(REJECTS_TABLE, [
      VARCHAR,
      VARCHAR,
      DOUBLE,
      VARCHAR,
      VARCHAR,
      VARCHAR,
    ]);
    const row: unknown[] = [];
    try {
      for await (const batch of readEventFile(file, input.stream.fields) as AsyncGenerator<ItemBatch>) {
        for (let i = 0; i < batch.items.length; i++) {
          const item = batch.items[i]!;
          const line = batch.lines[i]!;
          const plain = textOrValue(item);
          const raw = 'text' in plain ? plain.text : JSON.stringify(plain.value);
          let value: unknown;
          if ('text' in plain) {
            try {
              value = JSON.parse(plain.text);
            } catch (error) {
              rejects.push([
                input.stream.name,
                file,
                line,
                'malformed_json',
                (error as Error).message,
                raw,
              ] as never);
              stats.rejected++;
              continue;
            }
          } else value = plain.value;
          const checked = contract.check(value, Number.POSITIVE_INFINITY);
          if (!checked.ok) {
            rejects.push([
              input.stream.name,
              file,
              line,
              checked.rejection.reason,
              checked.rejection.detail,
              raw,
            ] as never);
            stats.rejected++;
            continue;
          }
          const event: ValidEvent = checked.event;
          stageRow(stage, out, row, seq++, null as never, event.time, event.fields);
          stats.events++;
        }
        progress(batch.items.length);
      }
    } finally {
      out.close();
      rejects.close();
    }
  }
  if (input.stream.idField) {
    // The first valid copy of an id counts (lowest sequence); later copies are duplicates.
    await staging.run(`CREATE TABLE ${stage.table}_dups AS SELECT id, min(seq) AS keep, count(*) - 1 AS copies
      FROM ${stage.table} WHERE id IS NOT NULL GROUP BY id HAVING count(*) > 1`);
    const duplicates = Number(
      await staging.scalar(`SELECT coalesce(sum(copies), 0) FROM ${stage.table}_dups`),
    );
    if (duplicates > 0)
      await staging.run(
        `DELETE FROM ${stage.table} e USING ${stage.table}_dups d WHERE e.id = d.id AND e.seq <> d.keep`,
      );
    await staging.run(`DROP TABLE ${stage.table}_dups`);
    stats.duplicates += duplicates;
    stats.events -= duplicates;
  }
}
