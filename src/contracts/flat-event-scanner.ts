/**
 * The fast path of a contract check: one event's JSON text (UTF-8 bytes), checked against a flat JSON Schema
 * in a single scan, without decoding the text or building the object. It answers only "certainly valid, and nothing to normalise" (filling in
 * the time, partition key and id) or "not sure"; on "not sure" the full check (JSON.parse, ajv, normalisation)
 * decides and explains. So it never refuses an event, and it accepts only what the full check accepts with the
 * same time, keys and id (a property test holds it to that).
 *
 * It applies when the schema is an object of known scalar properties typed by `type` alone. It says "not sure"
 * for anything else it meets: escapes in strings, nested values, unknown or repeated properties, a key or time
 * that normalisation would change (a number key, an ISO or fractional time), a missing required property.
 */
import type { StreamPlan } from '../definitions/plan.js';
import { FALSE, NULL, skipSpace, startsWith, TRUE } from './json-bytes.js';

const T_STRING = 1;
const T_NUMBER = 2;
const T_INTEGER = 4;
const T_BOOLEAN = 8;
const T_NULL = 16;
const TYPE_BITS: Record<string, number> = {
  string: T_STRING,
  number: T_NUMBER,
  integer: T_INTEGER,
  boolean: T_BOOLEAN,
  null: T_NULL,
};
const ANY_SCALAR = T_STRING | T_NUMBER | T_INTEGER | T_BOOLEAN | T_NULL;

/** Schema keywords that do not constrain a value. */
const ANNOTATIONS = new Set(['description', 'title', '$comment', 'examples', 'default', 'deprecated']);
const OBJECT_KEYWORDS = new Set([
  ...ANNOTATIONS,
  'type',
  'properties',
  'required',
  'additionalProperties',
  '$schema',
  '$id',
]);

/** What the scan found in a valid event. */
export interface ScannedEvent {
  time: number;
  partitionKey: string;
  /**
   * An ASCII string id is given as its bytes [idStart, idEnd) of the scanned buffer, with `id` null (no string
   * is made); any other id as `id`, with idStart -1. No id: both null and -1.
   */
  id: string | null;
  idStart: number;
  idEnd: number;
}

enum Role {
  None = 0,
  Key = 1,
  PartitionKey = 2,
  Time = 4,
  Id = 8,
}

/** Integers of up to 15 digits are accumulated exactly while scanning; longer ones go through Number(). */
const EXACT_DIGITS = 15;

export class FlatEventScanner {
  private readonly index = new Map<string, number>();
  /** `"name"` in UTF-8, to recognise a property in place without decoding it. */
  private readonly quoted: Buffer[];
  private readonly types: Uint8Array;
  private readonly roles: Uint8Array;
  private readonly required: Uint8Array;
  private readonly requiredCount: number;
  private readonly keyCount: number;
  /** The property order of the last event, to predict the next one's. */
  private readonly order: Int32Array;
  private readonly seenAt: Uint32Array;
  private generation = 0;

  private constructor(names: string[], types: number[], roles: number[], required: Set<string>) {
    names.forEach((name, p) => {
      this.index.set(name, p);
    });
    this.quoted = names.map((name) => Buffer.from(`"${name}"`, 'utf8'));
    this.types = Uint8Array.from(types);
    this.roles = Uint8Array.from(roles);
    this.required = Uint8Array.from(names, (name) => (required.has(name) ? 1 : 0));
    this.requiredCount = required.size;
    this.keyCount = roles.filter((role) => role & Role.Key).length;
    this.order = new Int32Array(names.length + 1).fill(-1);
    this.seenAt = new Uint32Array(names.length);
  }

  /** A scanner for the stream's schema, or null when the schema is not flat enough for one. */
  static compile(stream: StreamPlan): FlatEventScanner | null {
    const schema = stream.schema as Record<string, unknown> | null;
    if (typeof schema !== 'object' || schema === null || schema.type !== 'object') return null;
    for (const keyword of Object.keys(schema)) if (!OBJECT_KEYWORDS.has(keyword)) return null;
    if (schema.additionalProperties !== undefined && typeof schema.additionalProperties !== 'boolean')
      return null;
    const properties = schema.properties as Record<string, unknown> | undefined;
    if (typeof properties !== 'object' || properties === null) return null;
    const required = schema.required ?? [];
    if (!Array.isArray(required) || !required.every((name) => typeof name === 'string' && name in properties))
      return null;
    const names: string[] = [];
    const types: number[] = [];
    for (const [name, property] of Object.entries(properties)) {
      if (name.includes('"') || name.includes('\\') || name === '__proto__') return null;
      if (typeof property !== 'object' || property === null) return null;
      let bits = ANY_SCALAR;
      for (const [keyword, value] of Object.entries(property)) {
        if (ANNOTATIONS.has(keyword)) continue;
        if (keyword !== 'type') return null;
        const listed = Array.isArray(value) ? value : [value];
        bits = 0;
        for (const type of listed) {
          const bit = typeof type === 'string' ? TYPE_BITS[type] : undefined;
          if (bit === undefined) return null; // object, array or unknown: the full check
          bits |= bit;
        }
      }
      names.push(name);
      types.push(bits);
    }
    const roles = names.map(() => Role.None as number);
    const roleOf = (field: string, role: Role): boolean => {
      const p = names.indexOf(field);
      if (p < 0) return false;
      roles[p]! |= role;
      return true;
    };
    const keyFields = Object.values(stream.keys);
    if (keyFields.length === 0 || !roleOf(keyFields[0]!, Role.Key | Role.PartitionKey)) return null;
    for (const field of keyFields.slice(1)) if (!roleOf(field, Role.Key)) return null;
    if (!roleOf(stream.timeField, Role.Time)) return null;
    if (stream.idField !== undefined && !roleOf(stream.idField, Role.Id)) return null;
    return new FlatEventScanner(names, types, roles, new Set(required as string[]));
  }

  /**
   * True when bytes [start, end) of `bytes` (UTF-8 JSON text) are certainly a valid event with nothing to
   * normalise; `out` then holds its time (epoch ms), partition key and id. False means "not sure": run the full
   * check. Keys must be ASCII here (the partition is a hash of the key's bytes, so they must be exactly what the
   * full check would encode); other strings may hold any bytes, stored as they came.
   */
  scan(bytes: Buffer, start: number, end: number, out: ScannedEvent): boolean {
    const generation = ++this.generation;
    let i = skipSpace(bytes, start, end);
    if (i >= end || bytes[i] !== 0x7b) return false; // {
    i = skipSpace(bytes, i + 1, end);
    let count = 0;
    let required = 0;
    let keys = 0;
    let timeSeen = false;
    out.id = null;
    out.idStart = -1;
    if (i < end && bytes[i] === 0x7d)
      i++; // {}
    else {
      for (;;) {
        if (i >= end || bytes[i] !== 0x22) return false;
        // The property: as predicted from the last event's order, or looked up by name.
        let p = this.order[count]!;
        if (p >= 0 && startsWith(bytes, i, end, this.quoted[p]!)) i += this.quoted[p]!.length;
        else {
          const close = bytes.indexOf(0x22, i + 1);
          if (close < 0 || close >= end) return false;
          p = this.index.get(bytes.toString('utf8', i + 1, close)) ?? -1;
          if (p < 0) return false; // unknown (or escaped) name
          this.order[count] = p;
          i = close + 1;
        }
        if (this.seenAt[p] === generation) return false; // repeated
        this.seenAt[p] = generation;
        i = skipSpace(bytes, i, end);
        if (i >= end || bytes[i] !== 0x3a) return false; // :
        i = skipSpace(bytes, i + 1, end);
        if (i >= end) return false;
        const types = this.types[p]!;
        const role = this.roles[p]!;
        const c = bytes[i]!;
        if (c === 0x22) {
          if (!(types & T_STRING) || role & Role.Time) return false;
          // Keys must be ASCII: any byte from 0x80 up is refused with the escapes and control characters.
          const limit = role & Role.Key ? 0x80 : 0x100;
          let j = i + 1;
          let high = 0;
          for (;;) {
            if (j >= end) return false;
            const d = bytes[j]!;
            if (d === 0x22) break;
            if (d === 0x5c || d < 0x20 || d >= limit) return false; // an escape, or a control character
            high |= d;
            j++;
          }
          if (role & Role.Key) {
            if (j === i + 1) return false; // an empty key
            keys++;
            if (role & Role.PartitionKey) out.partitionKey = bytes.toString('latin1', i + 1, j);
          }
          if (role & Role.Id) {
            if (high < 0x80) {
              out.idStart = i + 1;
              out.idEnd = j;
            } else out.id = bytes.toString('utf8', i + 1, j);
          }
          i = j + 1;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          if (!(types & (T_NUMBER | T_INTEGER)) || role & Role.Key) return false;
          const from = i;
          let negative = false;
          if (c === 0x2d) {
            negative = true;
            i++;
          }
          let digits = 0;
          let exact = 0;
          const first = i < end ? bytes[i]! : -1;
          if (first === 0x30) {
            i++;
            digits = 1;
          } else if (first >= 0x31 && first <= 0x39) {
            while (i < end && isDigit(bytes[i]!)) {
              exact = exact * 10 + (bytes[i]! - 0x30);
              digits++;
              i++;
            }
          } else return false;
          let fraction = false;
          if (i < end && bytes[i] === 0x2e) {
            fraction = true;
            i++;
            const at = i;
            while (i < end && isDigit(bytes[i]!)) i++;
            if (i === at) return false;
          }
          let exponent = false;
          if (i < end && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
            exponent = true;
            i++;
            if (i < end && (bytes[i] === 0x2b || bytes[i] === 0x2d)) i++;
            const at = i;
            while (i < end && isDigit(bytes[i]!)) i++;
            if (i === at) return false;
          }
          const exactly = !fraction && !exponent && digits <= EXACT_DIGITS;
          let value = negative ? -exact : exact;
          // The value itself matters for an id, a time, an integer-only type, or when it may overflow to
          // Infinity (an exponent, or hundreds of digits); a plain decimal number is valid as scanned.
          const needed = role !== Role.None || !(types & T_NUMBER) || exponent || digits > 300;
          if (!exactly && needed) {
            value = Number(bytes.toString('latin1', from, i));
            if (!Number.isFinite(value)) return false;
          }
          if (!(types & T_NUMBER) && value % 1 !== 0) return false; // integer only
          if (role & Role.Time) {
            if (!exactly) return false; // a fraction to floor, or digits beyond exact: the full check
            out.time = value;
            timeSeen = true;
          }
          if (role & Role.Id) {
            out.id = String(value);
            out.idStart = -1;
          }
        } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
          const literal = c === 0x74 ? TRUE : c === 0x66 ? FALSE : NULL;
          if (!startsWith(bytes, i, end, literal)) return false;
          if (!(types & (c === 0x6e ? T_NULL : T_BOOLEAN)) || role !== Role.None) return false;
          i += literal.length;
        } else return false; // an object, an array, or not JSON
        count++;
        required += this.required[p]!;
        i = skipSpace(bytes, i, end);
        if (i >= end) return false;
        const next = bytes[i];
        if (next === 0x2c) {
          i = skipSpace(bytes, i + 1, end);
          continue;
        }
        if (next !== 0x7d) return false;
        i++;
        break;
      }
    }
    if (skipSpace(bytes, i, end) !== end) return false;
    return required === this.requiredCount && keys === this.keyCount && timeSeen;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
