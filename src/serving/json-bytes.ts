/**
 * JSON text written as bytes into a buffer kept for reuse, then made one string: for a text written thousands of
 * times a second (vector-json.ts), without the intermediate strings that concatenation leaves for the scavenger.
 * ASCII only: `ascii` turns false once a character beyond it is written, and the caller then writes that text
 * another way.
 */
import { decimalLength, putDecimal } from '../ingest/decimal.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const NULL = asciiBytes('null');

export class JsonBytes {
  /** The buffer written to: compiled writers store constant bytes into it after reserve() (which may replace it). */
  bytes = Buffer.allocUnsafeSlow(1024);
  private length = 0;
  /** False once a character beyond ASCII was written: the text is then not what `text()` gives. */
  ascii = true;

  /** Starts a new text. */
  start(): void {
    this.length = 0;
    this.ascii = true;
  }

  /** The text written since start(). */
  text(): string {
    return this.bytes.toString('latin1', 0, this.length);
  }

  /** Constant text, as bytes (asciiBytes). */
  constant(text: Uint8Array): void {
    // set() rather than a loop: 0.12 µs less per answer of twenty-odd constants (measured).
    const at = this.reserve(text.length); // first: it may replace this.bytes
    this.bytes.set(text, at);
  }

  /** A string as JSON: as it is between quotes when nothing in it needs escaping, else as JSON.stringify writes it. */
  string(value: string): void {
    const at = this.reserve(value.length + 2);
    const bytes = this.bytes;
    bytes[at] = QUOTE;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code < 0x20 || code > 0x7e || code === QUOTE || code === BACKSLASH) {
        this.length = at;
        this.json(JSON.stringify(value));
        return;
      }
      bytes[at + 1 + i] = code;
    }
    bytes[at + 1 + value.length] = QUOTE;
  }

  /** Any value as JSON.stringify writes it; false when it has no JSON text (undefined). */
  value(value: unknown): boolean {
    if (typeof value === 'number' && Number.isSafeInteger(value)) this.integer(value);
    else if (typeof value === 'string') this.string(value);
    else if (Array.isArray(value)) this.array(value);
    else {
      const json = JSON.stringify(value);
      if (json === undefined) return false;
      this.json(json);
    }
    return true;
  }

  /** An array element by element (lastK's values), without JSON.stringify's string of the whole. */
  private array(values: readonly unknown[]): void {
    this.byte(OPEN_BRACKET);
    for (let i = 0; i < values.length; i++) {
      if (i > 0) this.byte(COMMA);
      if (!this.value(values[i])) this.constant(NULL); // as JSON.stringify writes undefined in an array
    }
    this.byte(CLOSE_BRACKET);
  }

  private byte(code: number): void {
    const at = this.reserve(1); // first: it may replace this.bytes
    this.bytes[at] = code;
  }

  /** A safe integer in decimal (-0 as 0, as JSON.stringify writes it), by int32 arithmetic (decimal.ts). */
  private integer(value: number): void {
    const at = this.reserve(decimalLength(value)); // first: it may replace this.bytes
    putDecimal(this.bytes, at, value);
  }

  /** JSON text as JSON.stringify gave it. */
  private json(text: string): void {
    const at = this.reserve(text.length);
    const bytes = this.bytes;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) this.ascii = false;
      bytes[at + i] = code;
    }
  }

  /** Room for `count` more bytes: their offset. */
  reserve(count: number): number {
    const at = this.length;
    if (at + count > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, at + count));
      this.bytes.copy(grown, 0, 0, at);
      this.bytes = grown;
    }
    this.length = at + count;
    return at;
  }
}

export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** An ASCII text's bytes. */
export function asciiBytes(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}
