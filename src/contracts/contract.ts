/**
 * A stream's contract, compiled once: the schema validator (ajv for JSON Schema, avsc for Avro), then the keys,
 * event time and id normalised per semantics.md. `check` never throws for anything a producer sends.
 */
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import avro from 'avsc';
import { stableHash } from '../definitions/hash.js';
import type { StreamPlan } from '../definitions/plan.js';
import { keyString } from '../engine/core/keys.js';
import { schemaTypeOf } from './compatibility.js';
import { FlatEventScanner, type ScannedEvent } from './flat-event-scanner.js';
import type { Rejection } from './rejection.js';
import { normaliseTime } from './time.js';

// ajv-formats is CommonJS: under ESM its function is the default export's `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv;

/** An event that kept its contract: time in epoch ms, keys as strings. */
export interface ValidEvent {
  readonly time: number;
  /** entity → key. */
  readonly keys: Readonly<Record<string, string>>;
  readonly id: string | null;
  /** The event's fields, with the time field as epoch ms and key fields as strings. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** True when normalisation changed a value (an ISO time, a fractional ms, a number key): the raw text is stale. */
  readonly normalised: boolean;
}

export type CheckResult =
  | { readonly ok: true; readonly event: ValidEvent }
  | { readonly ok: false; readonly rejection: Rejection };

export interface ContractOptions {
  /** How far ahead of its arrival an event's time may be (default 5 minutes). */
  readonly futureSkewMs?: number;
}

export class StreamContract {
  /** Identifies the schema version events were checked against (hash of the schema). */
  readonly schemaVersion: string;
  private readonly validate: (value: unknown) => string | null;
  private readonly futureSkewMs: number;
  private readonly scanner: FlatEventScanner | null;

  constructor(
    readonly stream: StreamPlan,
    options: ContractOptions = {},
  ) {
    this.futureSkewMs = options.futureSkewMs ?? 5 * 60_000;
    this.schemaVersion = stableHash(stream.schema);
    this.validate =
      schemaTypeOf(stream.schema) === 'AVRO'
        ? avroValidator(stream.schema)
        : jsonSchemaValidator(stream.schema);
    this.scanner = schemaTypeOf(stream.schema) === 'AVRO' ? null : FlatEventScanner.compile(stream);
  }

  /**
   * The fast path for an event as UTF-8 JSON text (bytes [start, end) of `bytes`): true when it is certainly
   * valid, its time within the allowed skew and nothing to normalise (`out` then holds its time, partition key
   * and id, and the bytes can be stored as they are). False means "not sure": parse it and `check` it, which
   * decides and explains.
   */
  checkBytes(bytes: Buffer, start: number, end: number, arrivalTime: number, out: ScannedEvent): boolean {
    return this.scanner?.scan(bytes, start, end, out) === true && out.time <= arrivalTime + this.futureSkewMs;
  }

  check(value: unknown, arrivalTime: number): CheckResult {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return reject(
        'not_an_object',
        `an event must be a JSON object, not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`,
      );
    }
    const record = value as Record<string, unknown>;
    const { keys: keyFields, timeField, idField } = this.stream;
    // Keys and time first: their reasons are more useful than a generic schema error.
    const keys: Record<string, string> = {};
    for (const [entity, field] of Object.entries(keyFields)) {
      const key = keyString(record[field]);
      if (key === null || key === '')
        return reject(
          'missing_key',
          `key \`${field}\` (entity ${entity}) is missing or not a string or number`,
        );
      keys[entity] = key;
    }
    if (record[timeField] === undefined || record[timeField] === null)
      return reject('missing_time', `event time \`${timeField}\` is missing`);
    // Keys are strings (a number key in decimal): the schema sees them as the engine will.
    const fields: Record<string, unknown> = { ...record };
    for (const [entity, field] of Object.entries(keyFields)) fields[field] = keys[entity];
    const problem = this.validate(fields);
    if (problem) return reject('schema_violation', problem);
    const time = normaliseTime(record[timeField], timeField);
    if (typeof time !== 'number') return { ok: false, rejection: time };
    if (time > arrivalTime + this.futureSkewMs) {
      return reject(
        'future_time',
        `\`${timeField}\` is ${Math.round((time - arrivalTime) / 1000)} s ahead of arrival; the allowed clock skew is ${this.futureSkewMs / 1000} s`,
      );
    }
    let normalised = record[timeField] !== time;
    for (const field of Object.values(keyFields)) if (record[field] !== fields[field]) normalised = true;
    fields[timeField] = time;
    const id = idField === undefined ? null : keyString(record[idField]);
    return { ok: true, event: { time, keys, id, fields, normalised } };
  }
}

function reject(reason: Rejection['reason'], detail: string): CheckResult {
  return { ok: false, rejection: { reason, detail } };
}

function jsonSchemaValidator(schema: unknown): (value: unknown) => string | null {
  const ajv = new Ajv({ allErrors: false, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema as object);
  return (value) => {
    if (validate(value)) return null;
    const error = validate.errors?.[0];
    if (!error) return 'does not match the schema';
    const where = error.instancePath
      ? `\`${error.instancePath.slice(1).replaceAll('/', '.')}\``
      : 'the event';
    return `${where} ${error.message ?? 'does not match the schema'}`;
  };
}

function avroValidator(schema: unknown): (value: unknown) => string | null {
  const type = avro.Type.forSchema(schema as avro.Schema);
  return (value) => {
    let problem: string | null = null;
    const ok = type.isValid(value, {
      errorHook: (path: string[]) => {
        problem ??= `\`${path.join('.') || 'the event'}\` does not match the Avro schema`;
      },
    });
    return ok ? null : (problem ?? 'does not match the Avro schema');
  };
}
