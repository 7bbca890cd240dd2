/**
 * Writes a training set: the spine's columns unchanged and in spine order, then one column per feature
 * (interface.md). Parquet types: integers for count and countDistinct, doubles for numbers, lists for
 * lastK/firstK, structs for first/last over several fields; in CSV a null is an empty cell and a list is JSON
 * text; NDJSON holds JSON values. The format follows the output's extension (Parquet by default). Parquet
 * metadata records the plan's hash, the view, and the log positions read.
 */
import { extname } from 'node:path';
import {
  BIGINT,
  BOOLEAN,
  DOUBLE,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
  STRUCT,
  structValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { AggregationPlan, ValueType } from '../../definitions/plan.js';
import { quoteIdent, quoteText, type Staging } from './staging.js';
import type { FeatureColumn } from './sweep.js';

export type OutputFormat = 'parquet' | 'csv' | 'ndjson';

export function outputFormatOf(path: string): OutputFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl' || ext === '.json') return 'ndjson';
  return 'parquet';
}

/** How a feature's values are written. */
export type ColumnKind =
  | { readonly kind: 'integer' }
  | { readonly kind: 'double' }
  | { readonly kind: 'scalar'; readonly type: ValueType }
  | { readonly kind: 'list'; readonly type: ValueType }
  | {
      readonly kind: 'struct';
      readonly fields: readonly { readonly name: string; readonly type: ValueType }[];
    };

export function columnKindOf(agg: AggregationPlan, fieldTypes: ReadonlyMap<string, ValueType>): ColumnKind {
  const typeOf = (f: string) => fieldTypes.get(f) ?? 'any';
  switch (agg.fn) {
    case 'count':
    case 'countDistinct':
    case 'approxCountDistinct':
      return { kind: 'integer' };
    case 'first':
    case 'last':
      return agg.fields.length === 1
        ? { kind: 'scalar', type: typeOf(agg.fields[0]!) }
        : { kind: 'struct', fields: agg.fields.map((name) => ({ name, type: typeOf(name) })) };
    case 'firstK':
    case 'lastK':
      return { kind: 'list', type: typeOf(agg.fields[0]!) };
    default:
      return { kind: 'double' };
  }
}

/** A derived feature's kind, from the values it took (CEL numbers are doubles). */
export function columnKindOfValues(values: readonly unknown[]): ColumnKind {
  let type: ValueType | null = null;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const t: ValueType =
      typeof v === 'number'
        ? 'double'
        : typeof v === 'string'
          ? 'string'
          : typeof v === 'boolean'
            ? 'bool'
            : 'any';
    if (type === null) type = t;
    else if (type !== t) return { kind: 'scalar', type: 'any' };
  }
  return type === 'double' ? { kind: 'double' } : { kind: 'scalar', type: type ?? 'double' };
}

function scalarType(type: ValueType): DuckDBType {
  return type === 'double' ? DOUBLE : type === 'bool' ? BOOLEAN : VARCHAR;
}

function duckdbType(kind: ColumnKind): DuckDBType {
  switch (kind.kind) {
    case 'integer':
      return BIGINT;
    case 'double':
      return DOUBLE;
    case 'scalar':
      return scalarType(kind.type);
    case 'list':
      return LIST(scalarType(kind.type));
    case 'struct':
      return STRUCT(Object.fromEntries(kind.fields.map((f) => [f.name, scalarType(f.type)])));
  }
}

function scalarValue(value: unknown, type: ValueType): DuckDBValue {
  if (value === null || value === undefined) return null;
  if (type === 'double') return typeof value === 'number' ? value : null;
  if (type === 'bool') return typeof value === 'boolean' ? value : null;
  if (type === 'string' && typeof value === 'string') return value;
  return JSON.stringify(value); // `any`: JSON text
}

function duckdbValue(value: unknown, kind: ColumnKind): DuckDBValue {
  if (value === null || value === undefined) return null;
  switch (kind.kind) {
    case 'integer':
      return typeof value === 'number' && !Number.isNaN(value) ? BigInt(value) : null;
    case 'double':
      return typeof value === 'number' && !Number.isNaN(value) ? value : null;
    case 'scalar':
      return scalarValue(value, kind.type);
    case 'list':
      return listValue((value as unknown[]).map((v) => scalarValue(v, kind.type)));
    case 'struct': {
      const record = value as Record<string, unknown>;
      return structValue(
        Object.fromEntries(kind.fields.map((f) => [f.name, scalarValue(record[f.name], f.type)])),
      );
    }
  }
}

export interface TrainingColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly values: FeatureColumn;
}

export async function writeTrainingSet(
  staging: Staging,
  options: {
    readonly out: string;
    readonly spineRelation: string;
    readonly rowCount: number;
    /** Rows to leave out (skipped as invalid). */
    readonly skipped: ReadonlySet<number>;
    readonly columns: readonly TrainingColumn[];
    readonly metadata: Readonly<Record<string, string>>;
  },
): Promise<void> {
  const { columns } = options;
  const names = columns.map((c) => quoteIdent(c.name));
  await staging.run(
    `CREATE OR REPLACE TABLE features (__row BIGINT${columns.map((c, i) => `, ${names[i]} ${duckdbType(c.kind).toString()}`).join('')})`,
  );
  const appender = await staging.columnAppender('features', [
    BIGINT,
    ...columns.map((c) => duckdbType(c.kind)),
  ]);
  const row: DuckDBValue[] = new Array(columns.length + 1);
  try {
    for (let r = 0; r < options.rowCount; r++) {
      if (options.skipped.has(r)) continue;
      row[0] = BigInt(r);
      for (let c = 0; c < columns.length; c++)
        row[c + 1] = duckdbValue(columns[c]!.values[r], columns[c]!.kind);
      appender.push(row);
    }
  } finally {
    appender.close();
  }
  const format = outputFormatOf(options.out);
  // CSV holds text: lists and structs as JSON (interface.md).
  const featureSelect = columns
    .map((c, i) =>
      format === 'csv' && (c.kind.kind === 'list' || c.kind.kind === 'struct')
        ? `to_json(f.${names[i]})::VARCHAR AS ${names[i]}`
        : `f.${names[i]}`,
    )
    .join(', ');
  const copyOptions =
    format === 'parquet'
      ? `FORMAT parquet, KV_METADATA {${Object.entries(options.metadata)
          .map(([k, v]) => `${quoteText(k)}: ${quoteText(v)}`)
          .join(', ')}}`
      : format === 'csv'
        ? 'FORMAT csv, HEADER true'
        : 'FORMAT json';
  await staging.run(
    `COPY (SELECT s.* EXCLUDE (__row), ${featureSelect}
      FROM (SELECT *, row_number() OVER () - 1 AS __row FROM ${options.spineRelation}) s
      JOIN features f ON f.__row = s.__row ORDER BY s.__row) TO ${quoteText(options.out)} (${copyOptions})`,
  );
}
