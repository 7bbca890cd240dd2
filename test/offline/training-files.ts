/**
 * Test helpers: write spines and event files in each format, and read a training set back in any format,
 * Parquet with an independent reader (hyparquet), so that our files are checked by someone else's code.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';

export type Format = 'ndjson' | 'csv' | 'parquet';

function plain(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Writes rows (objects with the same keys) as NDJSON, CSV (JSON text for non-scalars) or Parquet (via DuckDB). */
export async function writeRows(
  path: string,
  rows: readonly Record<string, unknown>[],
  format: Format,
): Promise<void> {
  if (format === 'ndjson') {
    writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
    return;
  }
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (format === 'csv') {
    const cell = (v: unknown) => {
      if (v === null || v === undefined) return '';
      const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
      return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    };
    writeFileSync(
      path,
      `${[columns.join(','), ...rows.map((r) => columns.map((c) => cell(r[c])).join(','))].join('\n')}\n`,
    );
    return;
  }
  const ndjson = `${path}.tmp.ndjson`;
  await writeRows(ndjson, rows, 'ndjson');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(
      `COPY (SELECT * FROM read_json('${ndjson}', format = 'newline_delimited')) TO '${path}' (FORMAT parquet)`,
    );
  } finally {
    connection.closeSync();
  }
}

/** A training set's rows as plain JavaScript values; CSV cells as text (empty = null). */
export async function readTrainingSet(path: string): Promise<Record<string, unknown>[]> {
  if (path.endsWith('.ndjson'))
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  if (path.endsWith('.csv')) {
    const rows = parse(readFileSync(path, 'utf8'), { columns: true }) as Record<string, string>[];
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === '' ? null : v])));
  }
  const file = await asyncBufferFromFile(path);
  return ((await parquetReadObjects({ file })) as Record<string, unknown>[]).map(
    (r) => plain(r) as Record<string, unknown>,
  );
}

/** The key-value metadata of a Parquet file. */
export async function parquetKeyValues(path: string): Promise<Record<string, string>> {
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
  return Object.fromEntries((metadata.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? '']));
}

/** A CSV cell read back as the type the reference value has. */
export function typedLike(cell: unknown, expected: unknown): unknown {
  if (typeof cell !== 'string' || cell === null) return cell;
  if (typeof expected === 'number') return Number(cell);
  if (typeof expected === 'boolean') return cell === 'true';
  if (expected !== null && typeof expected === 'object') return JSON.parse(cell);
  return cell;
}
