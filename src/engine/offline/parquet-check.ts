/**
 * The column-wise contract check of a Parquet file, inside DuckDB: possible when the stream's schema is a plain
 * JSON Schema object (types, required, descriptions) and the file's column types are ones the event-by-event
 * path would read the same way. It then gives exactly the event-by-event verdicts (missing key, missing time,
 * a value of the wrong type, an unusable time), at DuckDB's speed. Returns null otherwise: the caller then
 * checks event by event with the intake's contract.
 */
import type { StreamPlan } from '../../definitions/plan.js';
import type { StreamStage } from './stage-plan.js';
import { quoteIdent, quoteText, type Staging } from './staging.js';

type Family = 'string' | 'integer' | 'number' | 'boolean' | 'timestamp';

function familyOf(duckdbType: string): Family | null {
  const type = duckdbType.toUpperCase();
  if (type === 'VARCHAR') return 'string';
  if (type === 'BOOLEAN') return 'boolean';
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT)$/.test(type)) return 'integer';
  if (type === 'DOUBLE' || type === 'FLOAT') return 'number';
  if (type.startsWith('TIMESTAMP')) return 'timestamp';
  return null;
}

interface SimpleSchema {
  readonly required: ReadonlySet<string>;
  readonly properties: ReadonlyMap<string, readonly string[]>;
  readonly closed: boolean;
}

const SCHEMA_KEYS = new Set([
  'type',
  'required',
  'properties',
  'description',
  'title',
  '$schema',
  '$id',
  'additionalProperties',
]);
const PROPERTY_KEYS = new Set(['type', 'description', 'title']);
const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/** The schema as types per property, or null when it says more than types (then only ajv can judge). */
function simpleSchema(schema: unknown): SimpleSchema | null {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as Record<string, unknown>;
  if (s.type !== 'object' || Object.keys(s).some((k) => !SCHEMA_KEYS.has(k))) return null;
  if (s.additionalProperties !== undefined && typeof s.additionalProperties !== 'boolean') return null;
  const properties = new Map<string, readonly string[]>();
  for (const [name, property] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
    if (!property || typeof property !== 'object') return null;
    const p = property as Record<string, unknown>;
    if (Object.keys(p).some((k) => !PROPERTY_KEYS.has(k))) return null;
    const types = p.type === undefined ? [...JSON_TYPES] : Array.isArray(p.type) ? p.type : [p.type];
    if (!types.every((t) => typeof t === 'string' && JSON_TYPES.has(t))) return null;
    properties.set(name, types as string[]);
  }
  return {
    required: new Set(Array.isArray(s.required) ? (s.required as string[]) : []),
    properties,
    closed: s.additionalProperties === false,
  };
}

/** SQL that is true when a non-null value of this column breaks the property's types. */
function typeViolation(column: string, family: Family, types: readonly string[]): string | null {
  const allows = (t: string) => types.includes(t);
  if (family === 'string') return allows('string') ? null : 'true';
  if (family === 'boolean') return allows('boolean') ? null : 'true';
  if (family === 'integer') return allows('integer') || allows('number') ? null : 'true';
  if (family === 'number') {
    if (allows('number')) return `NOT isfinite(${column})`;
    if (allows('integer')) return `(NOT isfinite(${column}) OR ${column} <> floor(${column}))`;
    return 'true';
  }
  return allows('integer') || allows('number') ? null : 'true'; // a timestamp is read as epoch ms
}

export interface ParquetCheck {
  /** Inserts the file's valid events into the stage's table, their sequences starting at `firstSeq`. */
  insertSql(firstSeq: number): string;
  /** Inserts the file's invalid events, with reason and detail, into the rejects table. */
  rejectsSql(table: string): string;
}

export async function parquetCheck(
  staging: Staging,
  stage: StreamStage,
  file: string,
): Promise<ParquetCheck | null> {
  const stream: StreamPlan = stage.stream;
  const schema = simpleSchema(stream.schema);
  if (!schema) return null;
  const described = await staging.rows(`DESCRIBE SELECT * FROM read_parquet(${quoteText(file)})`);
  const columns = new Map<string, Family | null>(
    described.map((r) => [String(r.column_name), familyOf(String(r.column_type))]),
  );
  if ([...columns.values()].some((f) => f === null)) return null;
  if (schema.closed && [...columns.keys()].some((c) => !schema.properties.has(c))) return null;
  for (const name of schema.required) if (!columns.has(name)) return null;
  const keyFields = new Set(Object.values(stream.keys));
  for (const field of keyFields) {
    const family = columns.get(field);
    if (family !== 'string' && family !== 'integer') return null;
  }
  const timeFamily = columns.get(stream.timeField);
  if (!timeFamily || timeFamily === 'string' || timeFamily === 'boolean') return null;
  if (stream.idField && columns.has(stream.idField)) {
    const family = columns.get(stream.idField);
    if (family !== 'string' && family !== 'integer') return null;
  }

  const col = (name: string) => quoteIdent(name);
  const time = col(stream.timeField);
  const timeSql =
    timeFamily === 'timestamp'
      ? `epoch_ms(${time})::DOUBLE`
      : timeFamily === 'number'
        ? `floor(${time})`
        : `${time}::DOUBLE`;
  // The first failing check names the reason, in the intake contract's order.
  const cases: string[] = [];
  for (const [entity, field] of Object.entries(stream.keys)) {
    cases.push(
      `WHEN ${col(field)} IS NULL OR ${col(field)}::VARCHAR = '' THEN ['missing_key', ${quoteText(`key \`${field}\` (entity ${entity}) is missing or not a string or number`)}]`,
    );
  }
  cases.push(
    `WHEN ${time} IS NULL THEN ['missing_time', ${quoteText(`event time \`${stream.timeField}\` is missing`)}]`,
  );
  for (const [name, types] of schema.properties) {
    const family = keyFields.has(name) ? 'string' : columns.get(name);
    if (!family) continue;
    const wrong = typeViolation(col(name), family, types);
    const detail = quoteText(`\`${name}\` must be ${types.join(' or ')}`);
    if (!types.includes('null')) cases.push(`WHEN ${col(name)} IS NULL THEN ['schema_violation', ${detail}]`);
    if (wrong) cases.push(`WHEN ${col(name)} IS NOT NULL AND ${wrong} THEN ['schema_violation', ${detail}]`);
  }
  if (timeFamily === 'number')
    cases.push(
      `WHEN NOT isfinite(${time}) THEN ['unparsable_time', ${quoteText(`\`${stream.timeField}\` is not a finite number`)}]`,
    );
  const checked = `(SELECT *, CASE ${cases.join(' ')} ELSE NULL END AS __verdict FROM read_parquet(${quoteText(file)}, file_row_number = true))`;

  // A field as the event-by-event path stages it: keys as text, the time normalised, other values as read.
  const fieldSql = (name: string) =>
    !columns.has(name)
      ? 'NULL'
      : keyFields.has(name)
        ? `${col(name)}::VARCHAR`
        : name === stream.timeField
          ? timeSql
          : col(name);
  const numericSql = (name: string) => {
    if (!columns.has(name) || keyFields.has(name)) return 'NULL';
    if (name === stream.timeField) return timeSql;
    const family = columns.get(name);
    return family === 'integer' || family === 'number' ? `${col(name)}::DOUBLE` : 'NULL';
  };
  const categoricalSql = (name: string, i: number) => {
    if (!columns.has(name)) return 'NULL';
    const value = fieldSql(name);
    const asText = keyFields.has(name) || columns.get(name) === 'string';
    return asText && stage.categoricalTypes[i] === 'string' ? value : `to_json(${value})::VARCHAR`;
  };
  const rowSql = `to_json(struct_pack(${[...columns.keys()]
    .filter((c) => c !== 'file_row_number')
    .map((c) => `${col(c)} := ${fieldSql(c)}`)
    .join(', ')}))::VARCHAR`;
  const select = (firstSeq: number) =>
    [
      `${firstSeq} + file_row_number`,
      'NULL',
      timeSql,
      stream.idField && columns.has(stream.idField) ? `${col(stream.idField)}::VARCHAR` : 'NULL',
      ...stage.entities.map((e) => `${col(stream.keys[e]!)}::VARCHAR`),
      ...stage.numeric.map(numericSql),
      ...stage.categorical.map(categoricalSql),
      ...(stage.rows ? [rowSql] : []),
    ].join(', ');
  return {
    insertSql: (firstSeq) =>
      `INSERT INTO ${stage.table} SELECT ${select(firstSeq)} FROM ${checked} WHERE __verdict IS NULL`,
    rejectsSql: (table) =>
      `INSERT INTO ${table} SELECT ${quoteText(stream.name)}, ${quoteText(file)}, file_row_number + 1, __verdict[1], __verdict[2], to_json(struct_pack(${[...columns.keys()].map((c) => `${col(c)} := ${col(c)}`).join(', ')}))::VARCHAR FROM ${checked} WHERE __verdict IS NOT NULL`,
  };
}
