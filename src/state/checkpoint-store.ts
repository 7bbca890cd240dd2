/**
 * Durable checkpoints of the online state: the core's snapshot together with the log positions it reflects, in
 * one file written atomically (temporary file, fsync, rename, fsync of the folder), so that a restart loads a
 * state and positions that belong together and replays the log from there: exactly-once effect.
 *
 * Layout of `checkpoint.bin`:
 * - the 8 bytes `TRIBCKP3`, then the manifest's length in bytes (uint32, little-endian) and 4 zero bytes;
 * - the manifest: v8.serialize({ planHash, positions, snapshot, watermarks, createdAt }), except that each typed
 *   array in it is written as a host object of two uint32s, its type (VIEW_TYPES) and its length in bytes;
 * - zero bytes up to a multiple of 8, then the typed arrays' bytes, in the manifest's order, each padded to a
 *   multiple of 8 (so that loading makes views of the file's bytes, aligned, without copying them).
 *
 * Why not v8.serialize of it all: that copies every column into one buffer, on the event loop (1.9 s for the serve
 * benchmark's 580 MB, measured). Here the columns are written from where the snapshot holds them.
 *
 * A file of another layout version (or cut short) is ignored: the state is rebuilt from the log.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Deserializer, Serializer } from 'node:v8';
import type { CoreSnapshot } from '../engine/core/core.js';
import { writeDurably, writeDurablyAsync } from '../log/embedded/durable-file.js';

const MAGIC = Buffer.from('TRIBCKP3');
const HEADER_BYTES = 16;
/** Typed array types by the index that the manifest stores (a Buffer is loaded back as a Uint8Array). */
const VIEW_TYPES = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;
const ZEROS = new Uint8Array(8);

export interface Checkpoint {
  readonly planHash: string;
  /** stream or table → next offset to read, per partition. */
  readonly positions: Readonly<Record<string, readonly number[]>>;
  readonly snapshot: CoreSnapshot;
  /** stream → greatest event time applied. */
  readonly watermarks: Readonly<Record<string, number>>;
  readonly createdAt: number;
}

/** A checkpoint's file content as the parts to write one after another (the columns are not copied). */
export interface EncodedCheckpoint {
  readonly parts: readonly Uint8Array[];
  readonly byteLength: number;
}

/** v8's serializer, with typed arrays left out of its buffer: collected, to be written after it. */
class ManifestSerializer extends Serializer {
  readonly columns: Uint8Array[] = [];

  constructor() {
    super();
    (this as unknown as HostObjects)._setTreatArrayBufferViewsAsHostObjects(true);
  }

  _writeHostObject(view: ArrayBufferView): void {
    const type = VIEW_TYPES.findIndex((Type) => view instanceof Type);
    if (type < 0)
      throw new TypeError(`a checkpoint cannot hold a ${view.constructor.name}: use a typed array`);
    this.writeUint32(type);
    this.writeUint32(view.byteLength);
    this.columns.push(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }
}

/** v8's deserializer, with typed arrays as views of the file's column bytes, in order. */
class ManifestDeserializer extends Deserializer {
  constructor(
    manifest: Buffer,
    private readonly file: Buffer,
    private columnAt: number,
  ) {
    super(manifest);
  }

  _readHostObject(): ArrayBufferView {
    const Type = VIEW_TYPES[this.readUint32()];
    const byteLength = this.readUint32();
    if (!Type || this.columnAt + byteLength > this.file.length) throw new RangeError('checkpoint cut short');
    const view = new Type(
      this.file.buffer as ArrayBuffer,
      this.file.byteOffset + this.columnAt,
      byteLength / Type.BYTES_PER_ELEMENT,
    );
    this.columnAt += padded(byteLength);
    return view;
  }
}

interface HostObjects {
  _setTreatArrayBufferViewsAsHostObjects(flag: boolean): void;
}

export class CheckpointStore {
  private readonly file: string;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'checkpoint.bin');
  }

  /** Encodes and writes a checkpoint on the spot (blocking); returns the bytes written. */
  save(checkpoint: Checkpoint): number {
    const encoded = this.encode(checkpoint);
    writeDurably(this.file, encoded.parts);
    return encoded.byteLength;
  }

  /**
   * The checkpoint's file content: the manifest is serialised now, while the state is consistent; the columns are
   * the snapshot's own arrays, written later (they must not change meanwhile: a snapshot's arrays are its own).
   */
  encode(checkpoint: Checkpoint): EncodedCheckpoint {
    const serializer = new ManifestSerializer();
    serializer.writeHeader();
    serializer.writeValue(checkpoint);
    const manifest = serializer.releaseBuffer();
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header);
    header.writeUInt32LE(manifest.length, MAGIC.length);
    const parts: Uint8Array[] = [header, manifest];
    let byteLength = HEADER_BYTES + manifest.length;
    for (const part of [
      ZEROS.subarray(0, padded(byteLength) - byteLength),
      ...interleavePadding(serializer.columns),
    ]) {
      if (part.length) parts.push(part);
      byteLength += part.length;
    }
    return { parts, byteLength };
  }

  /** Writes an encoded checkpoint atomically and durably, off the event loop. */
  write(encoded: EncodedCheckpoint): Promise<void> {
    return writeDurablyAsync(this.file, encoded.parts);
  }

  /** The last checkpoint, or null when there is none (or it is unreadable: the log is replayed from 0). */
  load(): Checkpoint | null {
    if (!existsSync(this.file)) return null;
    const bytes = readWhole(this.file);
    if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return null;
    const manifestEnd = HEADER_BYTES + bytes.readUInt32LE(MAGIC.length);
    if (manifestEnd > bytes.length) return null;
    try {
      const deserializer = new ManifestDeserializer(
        bytes.subarray(HEADER_BYTES, manifestEnd),
        bytes,
        padded(manifestEnd),
      );
      deserializer.readHeader();
      return deserializer.readValue() as Checkpoint;
    } catch {
      return null;
    }
  }
}

/** `bytes` rounded up to a multiple of 8. */
function padded(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}

/** The columns, each followed by the zeros that pad it to a multiple of 8. */
function interleavePadding(columns: readonly Uint8Array[]): Uint8Array[] {
  return columns.flatMap((column) => [column, ZEROS.subarray(0, padded(column.length) - column.length)]);
}

/** The file's bytes in a buffer of its own, starting at offset 0 of its memory (so that columns are aligned). */
function readWhole(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.allocUnsafeSlow(fstatSync(fd).size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) return bytes.subarray(0, read);
      read += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}
