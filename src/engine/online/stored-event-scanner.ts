/**
 * Reads the fields that feature groups need straight from a stored event's UTF-8 bytes, `{"t":<ms>,"f":{…}}`
 * as the intake writes it, into columns: no JSON.parse, no object per event, a string only for a value that is
 * read. Parsing whole events was most of the decoder thread's time.
 *
 * It takes the common shape only: `t` then `f`, and `f` a flat object of scalars with no escape in any string.
 * For anything else, such as a nested value, an escape or another layout, it answers false, and the caller parses
 * that event with JSON.parse. It fills the columns exactly as the JSON path does (a property test holds it to
 * that):
 * - a numeric column gets the number, or NaN for null, any other type, or a missing field;
 * - a value column gets the value, or null for a missing field;
 * - a repeated name keeps its last value, as JSON.parse does.
 */

import { FALSE, NULL, skipSpace, startsWith, TRUE } from '../../contracts/json-bytes.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const BACKSLASH = 0x5c;
const QUOTED_T = Buffer.from('"t"');
const QUOTED_F = Buffer.from('"f"');

/** Where the value after `quotedName` and its colon starts (spaces allowed around the colon), or -1. */
function afterName(data: Buffer, i: number, end: number, quotedName: Uint8Array): number {
  if (!startsWith(data, i, end, quotedName)) return -1;
  i = skipSpace(data, i + quotedName.length, end);
  if (data[i] !== COLON) return -1;
  return skipSpace(data, i + 1, end);
}

/** A JSON number's characters: digits, sign, point, exponent. */
function isNumberByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

export class StoredEventScanner {
  private readonly names: Buffer[];
  /** Per name: its numeric column's index, or -1. */
  private readonly numericOf: Int32Array;
  /** Per name: its value column's index, or -1. */
  private readonly valueOf: Int32Array;

  constructor(numeric: readonly string[], values: readonly string[]) {
    const names = [...new Set([...numeric, ...values])];
    this.names = names.map((n) => Buffer.from(n, 'utf8'));
    this.numericOf = Int32Array.from(names, (n) => numeric.indexOf(n));
    this.valueOf = Int32Array.from(names, (n) => values.indexOf(n));
  }

  /**
   * Fills row `row` of the columns from the stored event in `data` [start, end); false (the row left as it may
   * be, to be filled again) when the event is not of the shape it takes.
   */
  scan(
    data: Buffer,
    start: number,
    end: number,
    row: number,
    times: Float64Array,
    numericColumns: readonly Float64Array[],
    valueColumns: readonly unknown[][],
  ): boolean {
    for (const column of numericColumns) column[row] = Number.NaN;
    for (const column of valueColumns) column[row] = null;
    let i = skipSpace(data, start, end);
    // {"t":
    if (data[i] !== OPEN) return false;
    i = afterName(data, skipSpace(data, i + 1, end), end, QUOTED_T);
    if (i < 0) return false;
    const timeStart = i;
    while (i < end && isNumberByte(data[i]!)) i++;
    if (i === timeStart) return false;
    times[row] = this.number(data, timeStart, i);
    // ,"f":{
    i = skipSpace(data, i, end);
    if (data[i] !== COMMA) return false;
    i = afterName(data, skipSpace(data, i + 1, end), end, QUOTED_F);
    if (i < 0 || data[i] !== OPEN) return false;
    i = skipSpace(data, i + 1, end);
    if (data[i] === CLOSE) return this.closes(data, i + 1, end);
    for (;;) {
      // "name":
      if (data[i] !== QUOTE) return false;
      const nameStart = i + 1;
      i = this.stringEnd(data, nameStart, end);
      if (i < 0) return false;
      const field = this.fieldOf(data, nameStart, i);
      i = skipSpace(data, i + 1, end);
      if (data[i] !== COLON) return false;
      i = skipSpace(data, i + 1, end);
      // the value: a string, a number, true, false or null
      const c = data[i];
      let value: unknown;
      let isNumber = false;
      let number = Number.NaN;
      if (c === QUOTE) {
        const valueEnd = this.stringEnd(data, i + 1, end);
        if (valueEnd < 0) return false;
        if (field >= 0 && this.valueOf[field]! >= 0) value = data.toString('utf8', i + 1, valueEnd);
        i = valueEnd + 1;
      } else if (startsWith(data, i, end, NULL)) {
        value = null;
        i += NULL.length;
      } else if (startsWith(data, i, end, TRUE)) {
        value = true;
        i += TRUE.length;
      } else if (startsWith(data, i, end, FALSE)) {
        value = false;
        i += FALSE.length;
      } else if (c !== undefined && isNumberByte(c)) {
        const numberStart = i;
        while (i < end && isNumberByte(data[i]!)) i++;
        if (field >= 0) {
          number = this.number(data, numberStart, i);
          value = number;
          isNumber = true;
        }
      } else return false; // nested, or not JSON we expect
      if (field >= 0) {
        const n = this.numericOf[field]!;
        if (n >= 0) numericColumns[n]![row] = isNumber ? number : Number.NaN;
        const v = this.valueOf[field]!;
        if (v >= 0) valueColumns[v]![row] = value;
      }
      i = skipSpace(data, i, end);
      if (data[i] === COMMA) {
        i = skipSpace(data, i + 1, end);
        continue;
      }
      if (data[i] === CLOSE) return this.closes(data, i + 1, end);
      return false;
    }
  }

  /** The outer object's `}` and nothing after it. */
  private closes(data: Buffer, from: number, end: number): boolean {
    const i = skipSpace(data, from, end);
    return data[i] === CLOSE && skipSpace(data, i + 1, end) === end;
  }

  /** The position of the quote that closes a string whose text starts at `from`; -1 at an escape or no end. */
  private stringEnd(data: Buffer, from: number, end: number): number {
    for (let i = from; i < end; i++) {
      const c = data[i]!;
      if (c === QUOTE) return i;
      if (c === BACKSLASH) return -1;
    }
    return -1;
  }

  /** The field whose name is data [start, end), or -1 when no column reads it. */
  private fieldOf(data: Buffer, start: number, end: number): number {
    const length = end - start;
    for (let f = 0; f < this.names.length; f++) {
      const name = this.names[f]!;
      if (name.length === length && startsWith(data, start, end, name)) return f;
    }
    return -1;
  }

  /** A JSON number: whole numbers of up to 15 digits by hand (exact), anything else as JavaScript reads it. */
  private number(data: Buffer, start: number, end: number): number {
    let i = start;
    const negative = data[i] === 0x2d;
    if (negative) i++;
    if (end - i > 0 && end - i <= 15) {
      let value = 0;
      for (; i < end; i++) {
        const d = data[i]! - 0x30;
        if (d < 0 || d > 9) return Number(data.toString('latin1', start, end));
        value = value * 10 + d;
      }
      return negative ? -value : value;
    }
    return Number(data.toString('latin1', start, end));
  }
}

/** Row `row` of the columns from a stored event's text, through JSON.parse: what the scanner does not take. */
export function fillFromJson(
  text: string,
  row: number,
  fields: { readonly numeric: readonly string[]; readonly values: readonly string[] },
  times: Float64Array,
  numericColumns: readonly Float64Array[],
  valueColumns: readonly unknown[][],
): void {
  const stored = JSON.parse(text) as { t: number; f: Record<string, unknown> };
  times[row] = stored.t;
  for (let c = 0; c < numericColumns.length; c++) {
    const value = Object.hasOwn(stored.f, fields.numeric[c]!) ? stored.f[fields.numeric[c]!] : undefined;
    numericColumns[c]![row] = typeof value === 'number' ? value : Number.NaN;
  }
  for (let c = 0; c < valueColumns.length; c++) {
    const value = Object.hasOwn(stored.f, fields.values[c]!) ? stored.f[fields.values[c]!] : undefined;
    valueColumns[c]![row] = value ?? null;
  }
}
