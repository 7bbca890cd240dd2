/**
 * Reads a spine (Parquet, CSV or NDJSON, by extension) through DuckDB: one key column per entity of the view and
 * a time column (epoch ms, or ISO-8601 with an offset); every other column passes through untouched. Key and
 * time cells are checked here, with the intake's own rules: a bad row fails the run with its row number, or,
 * when invalid rows may be skipped, is set aside with its reason.
 */
import { normaliseTime } from '../../contracts/time.js';
import { formatOf } from '../../ingest/files.js';
import { keyString } from '../core/keys.js';
import { quoteIdent, quoteText, type Staging } from './staging.js';

export interface SpineColumns {
  /** The DuckDB relation that reads the spine with the columns as they will be written (row order kept). */
  readonly relation: string;
  readonly rowCount: number;
  /** entity → key of each row (null for a skipped row). */
  readonly keys: Record<string, (string | null)[]>;
  readonly times: Float64Array;
  /** Rows set aside (only with skipInvalid), ascending. */
  readonly skipped: { readonly row: number; readonly reason: string }[];
  /** The spine's column names, in order. */
  readonly columns: readonly string[];
}

export class SpineError extends Error {
  readonly code = 'TRIBUTARY_SPINE_INVALID';
}

/**
 * Two relations over the spine: `read`, for checking keys and times, keeps those columns as text (CSV) or JSON
 * (NDJSON) so that DuckDB does not reinterpret them (an ISO time without offset must be refused, not guessed);
 * `passthrough`, for the training set, keeps every other column as DuckDB reads it, keys as text, and times that
 * DuckDB would turn into timestamps as the text they were.
 */
async function spineRelations(
  staging: Staging,
  file: string,
  keyColumns: readonly string[],
  timeColumn: string,
): Promise<{ read: string; passthrough: string }> {
  const path = quoteText(file);
  const format = formatOf(file);
  if (format === 'parquet') return { read: `read_parquet(${path})`, passthrough: `read_parquet(${path})` };
  const asText = [...keyColumns, timeColumn];
  if (format === 'csv') {
    const header = await staging.rows(`DESCRIBE SELECT * FROM read_csv(${path}, header = true)`);
    const present = asText.filter((c) => header.some((r) => r.column_name === c));
    const types = present.map((c) => `${quoteText(c)}: 'VARCHAR'`).join(', ');
    const relation = `read_csv(${path}, header = true, types = {${types}})`;
    return { read: relation, passthrough: relation };
  }
  const detected = await staging.rows(
    `DESCRIBE SELECT * FROM read_json(${path}, format = 'newline_delimited')`,
  );
  const columns = (typeOf: (name: string, type: string) => string) =>
    detected
      .map(
        (r) =>
          `${quoteText(String(r.column_name))}: ${quoteText(typeOf(String(r.column_name), String(r.column_type)))}`,
      )
      .join(', ');
  const relation = (typeOf: (name: string, type: string) => string) =>
    `read_json(${path}, format = 'newline_delimited', columns = {${columns(typeOf)}})`;
  const textual = detected
    .filter((r) => {
      const name = String(r.column_name);
      const type = String(r.column_type);
      return (
        keyColumns.includes(name) ||
        /^(TIMESTAMP|DATE|TIME)/.test(type) ||
        (name === timeColumn && type === 'JSON')
      );
    })
    .map((r) => String(r.column_name));
  const read = relation((name, type) => (asText.includes(name) ? 'JSON' : type));
  const kept = relation((name, type) => (asText.includes(name) || textual.includes(name) ? 'JSON' : type));
  const replace = textual
    .map((c) => `json_extract_string(${quoteIdent(c)}, '$') AS ${quoteIdent(c)}`)
    .join(', ');
  return { read, passthrough: replace ? `(SELECT * REPLACE (${replace}) FROM ${kept})` : kept };
}

function plainCell(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value && typeof value === 'object' && 'micros' in value)
    return Number((value as { micros: bigint }).micros / 1000n);
  return value;
}

export async function readSpine(
  staging: Staging,
  file: string,
  options: { keyColumns: Record<string, string>; timeColumn: string; skipInvalid: boolean },
): Promise<SpineColumns> {
  const format = formatOf(file);
  const keyEntities = Object.keys(options.keyColumns);
  const keyColumns = Object.values(options.keyColumns);
  const relations = await spineRelations(staging, file, keyColumns, options.timeColumn);
  const relation = relations.read;
  const described = await staging.rows(`DESCRIBE SELECT * FROM ${relation}`);
  const columns = described.map((r) => String(r.column_name));
  for (const needed of [...keyColumns, options.timeColumn]) {
    if (!columns.includes(needed))
      throw new SpineError(
        `${file} has no column \`${needed}\`; its columns are ${columns.join(', ')} (choose others with --key <entity>=<column> and --time <column>)`,
      );
  }
  const keys: Record<string, (string | null)[]> = Object.fromEntries(keyEntities.map((e) => [e, []]));
  const times: number[] = [];
  const skipped: { row: number; reason: string }[] = [];
  const fail = (row: number, reason: string) => {
    if (!options.skipInvalid)
      throw new SpineError(
        `${file}, row ${row}: ${reason} (fix the row, or pass --skip-invalid to set such rows aside)`,
      );
    skipped.push({ row, reason });
  };
  const json = format === 'ndjson';
  const select = [...keyColumns, options.timeColumn].map(quoteIdent).join(', ');
  let row = 0;
  for await (const chunk of staging.chunks(`SELECT ${select} FROM ${relation}`)) {
    for (let i = 0; i < chunk.rowCount; i++) {
      row++;
      let problem: string | null = null;
      const rowKeys: (string | null)[] = [];
      for (let k = 0; k < keyColumns.length; k++) {
        let cell = chunk.columns[k]![i];
        if (json && typeof cell === 'string') cell = JSON.parse(cell);
        const key = keyString(plainCell(cell));
        if (key === null || key === '')
          problem ??= `key column \`${keyColumns[k]}\` is empty or not a string or number`;
        rowKeys.push(key);
      }
      let cell = plainCell(chunk.columns[keyColumns.length]![i]);
      if (json && typeof cell === 'string') cell = JSON.parse(cell);
      // In CSV every cell is text: a whole number there is epoch ms.
      if (format === 'csv' && typeof cell === 'string' && /^-?\d+(\.\d+)?$/.test(cell.trim()))
        cell = Number(cell);
      let time = Number.NaN;
      if (cell === null || cell === undefined) problem ??= `time column \`${options.timeColumn}\` is empty`;
      else {
        const parsed = normaliseTime(cell, options.timeColumn);
        if (typeof parsed === 'number') time = parsed;
        else problem ??= parsed.detail;
      }
      if (problem) {
        fail(row, problem);
        for (const e of keyEntities) keys[e]!.push(null);
        times.push(Number.NaN);
        continue;
      }
      for (let k = 0; k < keyEntities.length; k++) keys[keyEntities[k]!]!.push(rowKeys[k]!);
      times.push(time);
    }
  }
  return {
    relation: relations.passthrough,
    rowCount: row,
    keys,
    times: Float64Array.from(times),
    skipped,
    columns,
  };
}
