/**
 * Event files as batches of intake items, streamed (never the whole file in memory): NDJSON (one JSON object a
 * line), CSV (a header row; cells typed by the stream's schema), Parquet (read with DuckDB). Each batch carries
 * the file line (or row) of its first item, so that a refused event is reported with its place.
 */
import { createReadStream, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse';
import type { FieldPlan } from '../definitions/plan.js';
import type { IngestItem } from './intake.js';
import { forEachLine, isBlank } from './ndjson.js';

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

/** Bytes read from an NDJSON file at a time; a line longer than this is carried into a larger read. */
const NDJSON_CHUNK_BYTES = 1 << 20;

/**
 * NDJSON as byte ranges of the chunks read: no string per line (the intake's fast path checks the bytes and
 * stores them as they are; only a line it is not sure of is decoded). Each chunk is a buffer of its own, since
 * the items of a batch point into it until the batch is stored.
 */
async function* readNdjson(path: string, batchSize: number): AsyncGenerator<ItemBatch> {
  const file = await open(path, 'r');
  try {
    let items: IngestItem[] = [];
    let numbers: number[] = [];
    let lineNumber = 0;
    let carried = Buffer.alloc(0); // the start of a line cut by the end of the last chunk
    let bytesRead = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.max(NDJSON_CHUNK_BYTES, carried.length * 2));
      carried.copy(chunk, 0);
      const { bytesRead: n } = await file.read(chunk, carried.length, chunk.length - carried.length, null);
      bytesRead += n;
      const filled = carried.length + n;
      const last = n === 0; // end of file: what is carried is the last line
      const complete: IngestItem[] = [];
      const completeLines: number[] = [];
      const from = forEachLine(chunk, 0, filled, last, (start, end) => {
        lineNumber++;
        if (isBlank(chunk, start, end)) return;
        complete.push({ bytes: chunk, start, end });
        completeLines.push(lineNumber);
      });
      for (let k = 0; k < complete.length; k++) {
        items.push(complete[k]!);
        numbers.push(completeLines[k]!);
        if (items.length >= batchSize) {
          yield { items, lines: numbers, progress: bytesRead };
          items = [];
          numbers = [];
        }
      }
      if (last) break;
      carried = chunk.subarray(from, filled);
    }
    if (items.length) yield { items, lines: numbers, progress: bytesRead };
  } finally {
    await file.close();
  }
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
