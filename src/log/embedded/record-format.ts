/**
 * The embedded log's record layout. A segment file is a sequence of records, each self-checking:
 *
 *   offset  size  field
 *   0       4     bodyLength   u32 LE: bytes after the 8-byte header
 *   4       4     crc32        u32 LE: CRC-32 (zlib) of the body
 *   8       8     offset       u64 LE (as a double-safe integer): the record's offset in its partition
 *   16      8     sequence     u64 LE: the stream's arrival sequence
 *   24      8     arrivalTime f64 LE: epoch ms
 *   32      4     keyLength    u32 LE
 *   36      k     key          UTF-8
 *   36+k    v     value        the payload (bodyLength - 28 - k bytes)
 *
 * A record is valid when its length fits in the file and its CRC matches; recovery truncates a segment at the
 * first invalid record (a torn tail from a crash, or a flipped bit).
 */
import type { ValueEncoder } from '../log.js';
import { crc32Range } from './crc32.js';

/** Values as the log takes them by default: bytes, or text stored as UTF-8. */
export const PLAIN_VALUES: ValueEncoder<Uint8Array | string> = {
  byteLength: (value) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length),
  write: (value, out, at) => {
    if (typeof value === 'string') out.write(value, at, 'utf8');
    else out.set(value, at);
  },
};

export const HEADER_BYTES = 8;
const FIXED_BODY_BYTES = 28;
/** Records larger than this are refused at append and treated as corruption when read. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export interface EncodedFields {
  readonly offset: number;
  readonly sequence: number;
  readonly arrivalTime: number;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export function encodedSize(keyBytes: number, valueBytes: number): number {
  return HEADER_BYTES + FIXED_BODY_BYTES + keyBytes + valueBytes;
}

/**
 * Writes a record whose offset and checksum are not known yet (the partition assigns offsets at its group
 * commit, and `sealRecord` then fills both in). Strings are written as UTF-8 straight into `out`, so the writer
 * needs no Buffer per key or value; `keyBytes` and `valueBytes` are their UTF-8 lengths. A key given as bytes is
 * the `keyBytes` bytes of `key` from `keyStart`. Returns the position after the record.
 */
export function writeUnsealedRecord<V>(
  out: Buffer,
  at: number,
  sequence: number,
  arrivalTime: number,
  key: string | Uint8Array,
  keyBytes: number,
  value: V,
  valueBytes: number,
  encoder: ValueEncoder<V> = PLAIN_VALUES as ValueEncoder<V>,
  keyStart = 0,
): number {
  const body = at + HEADER_BYTES;
  out.writeUInt32LE(FIXED_BODY_BYTES + keyBytes + valueBytes, at);
  writeUint64(out, body + 8, sequence);
  out.writeDoubleLE(arrivalTime, body + 16);
  out.writeUInt32LE(keyBytes, body + 24);
  if (typeof key === 'string') out.write(key, body + 28, keyBytes, 'utf8');
  // Keys are short: a loop costs less than a native copy and its view.
  else for (let k = 0; k < keyBytes; k++) out[body + 28 + k] = key[keyStart + k]!;
  encoder.write(value, out, body + 28 + keyBytes);
  return body + FIXED_BODY_BYTES + keyBytes + valueBytes;
}

/** Sets the offset of the record written at `at`, then its checksum; returns the position after it. */
export function sealRecord(out: Buffer, at: number, offset: number): number {
  const body = at + HEADER_BYTES;
  const end = body + out.readUInt32LE(at);
  writeUint64(out, body, offset);
  out.writeUInt32LE(crc32Range(out, body, end), at + 4);
  return end;
}

/** Writes one complete record into `out` at `at`; returns the position after it. */
export function encodeRecord(out: Buffer, at: number, record: EncodedFields): number {
  writeUnsealedRecord(
    out,
    at,
    record.sequence,
    record.arrivalTime,
    record.key,
    record.key.length,
    record.value,
    record.value.length,
  );
  return sealRecord(out, at, record.offset);
}

export interface DecodedRecord {
  readonly offset: number;
  readonly sequence: number;
  readonly arrivalTime: number;
  readonly key: string;
  readonly value: Uint8Array;
  /** Position after this record. */
  readonly end: number;
}

/** Decodes the record at `at`, or returns null when it is incomplete or fails its checksum. */
export function decodeRecord(data: Buffer, at: number): DecodedRecord | null {
  const end = checkedRecordEnd(data, at);
  if (end < 0) return null;
  const body = at + HEADER_BYTES;
  const keyLength = data.readUInt32LE(body + 24);
  return {
    offset: readUint64(data, body),
    sequence: readUint64(data, body + 8),
    arrivalTime: data.readDoubleLE(body + 16),
    key: data.toString('utf8', body + 28, body + 28 + keyLength),
    value: data.subarray(body + 28 + keyLength, end),
    end,
  };
}

/**
 * The position after the record at `at`, read from its length alone (no CRC check), or -1 when the length does
 * not fit the layout or the data.
 */
export function recordEnd(data: Buffer, at: number): number {
  if (at + HEADER_BYTES > data.length) return -1;
  const bodyLength = data.readUInt32LE(at);
  const end = at + HEADER_BYTES + bodyLength;
  return bodyLength < FIXED_BODY_BYTES || bodyLength > MAX_RECORD_BYTES || end > data.length ? -1 : end;
}

/** `recordEnd` for a record whose checksum matches and whose key fits its body; -1 otherwise. */
function checkedRecordEnd(data: Buffer, at: number): number {
  const end = recordEnd(data, at);
  if (end < 0) return -1;
  const body = at + HEADER_BYTES;
  if (crc32Range(data, body, end) !== data.readUInt32LE(at + 4)) return -1;
  return body + FIXED_BODY_BYTES + data.readUInt32LE(body + 24) > end ? -1 : end;
}

/** The offset of the record at `at` (its header read, not checked). */
export function recordOffset(data: Buffer, at: number): number {
  return readUint64(data, at + HEADER_BYTES);
}

/** The arrival time of the record at `at` (its header read, not checked). */
export function recordArrivalTime(data: Buffer, at: number): number {
  return data.readDoubleLE(at + HEADER_BYTES + 16);
}

/**
 * Visits the records of `data`, back to back from its start: each one's offset, sequence and the byte range of
 * its value, with no object per record. Returns where it stopped: `data.length` when every record was whole and
 * checked, or the position of the first record that is incomplete or fails its checksum.
 */
export function forEachRecord(
  data: Buffer,
  visit: (offset: number, sequence: number, valueStart: number, valueEnd: number) => void,
): number {
  let at = 0;
  while (at < data.length) {
    const end = checkedRecordEnd(data, at);
    if (end < 0) return at;
    const body = at + HEADER_BYTES;
    const keyLength = data.readUInt32LE(body + 24);
    visit(readUint64(data, body), readUint64(data, body + 8), body + FIXED_BODY_BYTES + keyLength, end);
    at = end;
  }
  return at;
}

/** A u64 LE below 2^53 as a number, without a BigInt per read (the hot read path decodes millions of these). */
function readUint64(data: Buffer, at: number): number {
  return data.readUInt32LE(at) + data.readUInt32LE(at + 4) * 4_294_967_296;
}

/** Writes a non-negative integer below 2^53 as a u64 LE, without a BigInt. */
function writeUint64(out: Buffer, at: number, value: number): void {
  out.writeUInt32LE(value % 4_294_967_296, at);
  out.writeUInt32LE(Math.floor(value / 4_294_967_296), at + 4);
}
