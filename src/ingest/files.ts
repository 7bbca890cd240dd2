/**
 * Event files as batches of intake items, streamed (never the whole file in memory): NDJSON (one JSON object a
 * line), CSV (a header row; cells typed by the stream's schema), Parquet (read with DuckDB). Each batch carries
 * the file line (or row) of its first item, so that a refused event is reported with its place.
 */
import { createReadStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse';
import type { FieldPlan } from '../definitions/plan.js';
import type { IngestItem } from './intake.js';

export type FileFormat = 'ndjson' | 'csv' | 'parquet';

export interface ItemBatch {
  readonly items: IngestItem[];
  /** Each item's line (NDJSON; CSV counting the header) or row (Parquet), 1-based. */
  readonly lines: number[];
  /** Bytes read so far, for progress (rows for Parquet). */
  readonly progress: number;
}

export class FileFormatError extends Error {
  readonly code = 'TRIBUTARY_FILE_FORMAT';
}

export function formatOf(path: string): FileFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl' || ext === '.json') return 'ndjson';
  if (ext === '.csv') return 'csv';
  if (ext === '.parquet') return 'parquet';
  throw new FileFormatError(`cannot tell the format of ${path}: name it .ndjson, .jsonl, .csv or .parquet`);
}

/** How much there is to read, in the unit of `ItemBatch.progress`. */
export async function sizeOf(path: string): Promise<number> {
  if (formatOf(path) !== 'parquet') return statSync(path).size;
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const rows = await connection.runAndReadAll('SELECT count(*) AS n FROM read_parquet($1)', [path]);
    return Number(rows.getRowObjects()[0]!.n);
  } finally {
    connection.closeSync();
  }
}

export async function* readEventFile(
  path: string,
  fields: readonly FieldPlan[],
  batchSize = 5_000,
): AsyncGenerator<ItemBatch> {
  const format = formatOf(path);
  if (format === 'ndjson') yield* readNdjson(path, batchSize);
  else if (format === 'csv') yield* readCsv(path, fields, batchSize);
  else yield* readParquet(path, batchSize);
}

async function* readNdjson(path: string, batchSize: number): AsyncGenerator<ItemBatch> {
  const stream = createReadStream(path);
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let items: IngestItem[] = [];
  let numbers: number[] = [];
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === '') continue; // a blank line holds no event
    items.push({ text: line });
    numbers.push(lineNumber);
    if (items.length >= batchSize) {
      yield { items, lines: numbers, progress: stream.bytesRead };
      items = [];
      numbers = [];
    }
  }
  if (items.length) yield { items, lines: numbers, progress: stream.bytesRead };
}

/** A CSV cell as the schema expects it: numbers and booleans parsed, empty cells null; anything else as text. */
function typedCell(text: string, field: FieldPlan | undefined): unknown {
  if (text === '') return null;
  if (field?.type === 'double' || (field?.type === 'any' && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text))) {
    const number = Number(text);
    return Number.isNaN(number) ? text : number;
  }
  if (field?.type === 'bool') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

async function* readCsv(
  path: string,
  fields: readonly FieldPlan[],
  batchSize: number,
): AsyncGenerator<ItemBatch> {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const stream = createReadStream(path);
  const parser = stream.pipe(
    parse({ columns: true, skip_empty_lines: true, relax_column_count: false, info: true }),
  );
  let items: IngestItem[] = [];
  let numbers: number[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      numbers.push(info.lines);
      const value: Record<string, unknown> = {};
      for (const [name, text] of Object.entries(record)) value[name] = typedCell(text, byName.get(name));
      items.push({ value });
      if (items.length >= batchSize) {
        yield { items, lines: numbers, progress: stream.bytesRead };
        items = [];
        numbers = [];
      }
    }
  } catch (error) {
    throw new FileFormatError(`${path}: ${(error as Error).message}`);
  }
  if (items.length) yield { items, lines: numbers, progress: stream.bytesRead };
}

/** DuckDB values as JSON-like values: integers as numbers, timestamps as epoch ms. */
function plainValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value && typeof value === 'object') {
    if ('toDouble' in value) return (value as { toDouble(): number }).toDouble(); // DECIMAL
    if ('micros' in value) return Number((value as { micros: bigint }).micros / 1000n); // TIMESTAMP → epoch ms
    if ('days' in value && Object.keys(value).length === 1)
      return (value as { days: number }).days * 86_400_000; // DATE
    if ('items' in value) return (value as { items: unknown[] }).items.map(plainValue);
    return String(value);
  }
  return value;
}

async function* readParquet(path: string, batchSize: number): AsyncGenerator<ItemBatch> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const result = await connection.stream('SELECT * FROM read_parquet($1)', [path]);
    const names = result.columnNames();
    let row = 1;
    let items: IngestItem[] = [];
    let numbers: number[] = [];
    for (
      let chunk = await result.fetchChunk();
      chunk && chunk.rowCount > 0;
      chunk = await result.fetchChunk()
    ) {
      for (const raw of chunk.getRowObjects(names)) {
        numbers.push(row);
        const value: Record<string, unknown> = {};
        for (const name of names) value[name] = plainValue(raw[name]);
        items.push({ value });
        row++;
        if (items.length >= batchSize) {
          yield { items, lines: numbers, progress: row - 1 };
          items = [];
          numbers = [];
        }
      }
    }
    if (items.length) yield { items, lines: numbers, progress: row - 1 };
  } finally {
    connection.closeSync();
  }
}
