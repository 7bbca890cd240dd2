/**
 * The fast path of a contract check: one event's JSON text, checked against a flat JSON Schema in a single
 * scan, without building the object. It answers only "certainly valid, and nothing to normalise" (filling in
 * the time, partition key and id) or "not sure"; on "not sure" the full check (JSON.parse, ajv, normalisation)
 * decides and explains. So it never refuses an event, and it accepts only what the full check accepts with the
 * same time, keys and id (a property test holds it to that).
 *
 * It applies when the schema is an object of known scalar properties typed by `type` alone. It says "not sure"
 * for anything else it meets: escapes in strings, nested values, unknown or repeated properties, a key or time
 * that normalisation would change (a number key, an ISO or fractional time), a missing required property.
 */
import type { StreamPlan } from '../definitions/plan.js';

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
  id: string | null;
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
  /** `"name"`, to recognise a property in place without cutting it out of the text. */
  private readonly quoted: string[];
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
    this.quoted = names.map((name) => `"${name}"`);
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
   * True when `text` is certainly a valid event with nothing to normalise; `out` then holds its time (epoch
   * ms), partition key and id. False means "not sure": run the full check.
   */
  scan(text: string, out: ScannedEvent): boolean {
    const n = text.length;
    const generation = ++this.generation;
    let i = skipSpace(text, 0, n);
    if (text.charCodeAt(i) !== 0x7b) return false; // {
    i = skipSpace(text, i + 1, n);
    let count = 0;
    let required = 0;
    let keys = 0;
    let timeSeen = false;
    out.id = null;
    if (text.charCodeAt(i) === 0x7d)
      i++; // {}
    else {
      for (;;) {
        if (text.charCodeAt(i) !== 0x22) return false;
        // The property: as predicted from the last event's order, or looked up by name.
        let p = this.order[count]!;
        if (p >= 0 && text.startsWith(this.quoted[p]!, i)) i += this.quoted[p]!.length;
        else {
          const close = text.indexOf('"', i + 1);
          if (close < 0) return false;
          p = this.index.get(text.slice(i + 1, close)) ?? -1;
          if (p < 0) return false; // unknown (or escaped) name
          this.order[count] = p;
          i = close + 1;
        }
        if (this.seenAt[p] === generation) return false; // repeated
        this.seenAt[p] = generation;
        i = skipSpace(text, i, n);
        if (text.charCodeAt(i) !== 0x3a) return false; // :
        i = skipSpace(text, i + 1, n);
        const types = this.types[p]!;
        const role = this.roles[p]!;
        const c = text.charCodeAt(i);
        if (c === 0x22) {
          if (!(types & T_STRING) || role & Role.Time) return false;
          let j = i + 1;
          for (;;) {
            if (j >= n) return false;
            const d = text.charCodeAt(j);
            if (d === 0x22) break;
            if (d === 0x5c || d < 0x20) return false; // an escape, or a control character (invalid)
            j++;
          }
          if (role & Role.Key) {
            if (j === i + 1) return false; // an empty key
            keys++;
            if (role & Role.PartitionKey) out.partitionKey = text.slice(i + 1, j);
          }
          if (role & Role.Id) out.id = ownString(text, i + 1, j);
          i = j + 1;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          if (!(types & (T_NUMBER | T_INTEGER)) || role & Role.Key) return false;
          const start = i;
          let negative = false;
          if (c === 0x2d) {
            negative = true;
            i++;
          }
          let digits = 0;
          let exact = 0;
          const first = text.charCodeAt(i);
          if (first === 0x30) {
            i++;
            digits = 1;
          } else if (first >= 0x31 && first <= 0x39) {
            for (let d = first; d >= 0x30 && d <= 0x39; d = text.charCodeAt(++i)) {
              exact = exact * 10 + (d - 0x30);
              digits++;
            }
          } else return false;
          let fraction = false;
          if (text.charCodeAt(i) === 0x2e) {
            fraction = true;
            i++;
            const from = i;
            while (isDigit(text.charCodeAt(i))) i++;
            if (i === from) return false;
          }
          let exponent = false;
          const e = text.charCodeAt(i);
          if (e === 0x65 || e === 0x45) {
            exponent = true;
            i++;
            const sign = text.charCodeAt(i);
            if (sign === 0x2b || sign === 0x2d) i++;
            const from = i;
            while (isDigit(text.charCodeAt(i))) i++;
            if (i === from) return false;
          }
          const exactly = !fraction && !exponent && digits <= EXACT_DIGITS;
          let value = negative ? -exact : exact;
          // The value itself matters for an id, a time, an integer-only type, or when it may overflow to
          // Infinity (an exponent, or hundreds of digits); a plain decimal number is valid as scanned.
          const needed = role !== Role.None || !(types & T_NUMBER) || exponent || digits > 300;
          if (!exactly && needed) {
            value = Number(text.slice(start, i));
            if (!Number.isFinite(value)) return false;
          }
          if (!(types & T_NUMBER) && value % 1 !== 0) return false; // integer only
          if (role & Role.Time) {
            if (!exactly) return false; // a fraction to floor, or digits beyond exact: the full check
            out.time = value;
            timeSeen = true;
          }
          if (role & Role.Id) out.id = String(value);
        } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
          const literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
          if (!text.startsWith(literal, i)) return false;
          if (!(types & (c === 0x6e ? T_NULL : T_BOOLEAN)) || role !== Role.None) return false;
          i += literal.length;
        } else return false; // an object, an array, or not JSON
        count++;
        required += this.required[p]!;
        i = skipSpace(text, i, n);
        const next = text.charCodeAt(i);
        if (next === 0x2c) {
          i = skipSpace(text, i + 1, n);
          continue;
        }
        if (next !== 0x7d) return false;
        i++;
        break;
      }
    }
    if (skipSpace(text, i, n) !== n) return false;
    return required === this.requiredCount && keys === this.keyCount && timeSeen;
  }
}

/**
 * `text.slice(from, to)` as a string of its own. V8 cuts 13 characters or more as a view of the whole text, and
 * an id is kept (for de-duplication) long after its event: as a view it would keep the whole request or file
 * chunk alive with it.
 */
function ownString(text: string, from: number, to: number): string {
  return to - from < 13 ? text.slice(from, to) : (JSON.parse(text.slice(from - 1, to + 1)) as string);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The position of the first non-whitespace character (JSON's four) at or after `i`. */
function skipSpace(text: string, i: number, n: number): number {
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}
