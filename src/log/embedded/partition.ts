/**
 * One partition of the embedded log: a folder of segment files `<baseOffset>.log` (record layout in
 * record-format.ts). Appends are group-committed: records queued while a write is in flight go out together in
 * one synchronous write (O_DSYNC, or a write and an fdatasync), and each append resolves only once durable. An fsync failure is fatal for the
 * writer (never retried: the kernel may have dropped the dirty pages); a full disk refuses the batch, cuts the
 * file back to its last durable byte and leaves the partition writable.
 */
import {
  closeSync,
  existsSync,
  constants as fsConstants,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { LogError, type RecordBytes } from '../log.js';
import {
  type DecodedRecord,
  decodeRecord,
  recordArrivalTime,
  recordEnd,
  recordOffset,
  sealRecord,
} from './record-format.js';
import { SparseIndex } from './sparse-index.js';
import { TailRing } from './tail-ring.js';

export interface PartitionOptions {
  /** Roll to a new segment past this size. */
  readonly segmentBytes: number;
  /** Opens the active segment for writing with these flags (tests inject failing disks here). */
  readonly openForWrite?: (path: string, flags: number) => Promise<FileHandle>;
  /** Called (in a microtask) each time appended records become durable and readable: written, fsynced, indexed. */
  readonly onDurable?: () => void;
}

/** What recovery found when a partition was opened. */
export interface RecoveryReport {
  readonly segment: string;
  readonly validBytes: number;
  readonly truncatedBytes: number;
}

interface Segment {
  readonly baseOffset: number;
  readonly path: string;
  /** Offset after its last record. */
  endOffset: number;
  size: number;
  lastArrivalTime: number;
  /** Every INDEX_EVERY-th record's offset and file position. */
  readonly index: SparseIndex;
}

/**
 * Records written by `writeUnsealedRecord`, back to back: everything but their offsets and checksums, which the
 * partition fills in at its group commit (offsets are assigned in commit order).
 */
export interface UnsealedRecords {
  readonly buffer: Buffer;
  readonly count: number;
  /** The arrival time of the last record. */
  readonly lastArrivalTime: number;
}

/** One caller's records, waiting for the next group commit; resolved with the offset of its first record. */
interface Pending extends UnsealedRecords {
  resolve(firstOffset: number): void;
  reject(error: unknown): void;
}

const INDEX_EVERY = 32;
/**
 * Segments are written with O_DSYNC where the platform has it: a write returns once its bytes are durable, as
 * write + fdatasync would, in one trip through the thread pool instead of two (under load each trip waits its
 * turn, and the acknowledgement's tail was mostly that wait). Elsewhere each write is followed by fdatasync.
 */
export const SYNC_ON_WRITE = fsConstants.O_DSYNC !== undefined;
export const WRITE_FLAGS = fsConstants.O_RDWR | (SYNC_ON_WRITE ? fsConstants.O_DSYNC : 0);
/** Bytes of recently written records kept in memory per partition, so that tailing readers need no file I/O. */
const TAIL_BYTES = 4 * 1024 * 1024;

function emptySegment(baseOffset: number, path: string): Segment {
  return {
    baseOffset,
    path,
    endOffset: baseOffset,
    size: 0,
    lastArrivalTime: 0,
    index: new SparseIndex(),
  };
}
const segmentName = (baseOffset: number) => `${String(baseOffset).padStart(20, '0')}.log`;

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readWhole(path: string): Buffer {
  const size = statSync(path).size;
  const data = Buffer.allocUnsafe(size);
  const fd = openSync(path, 'r');
  try {
    for (let read = 0; read < size; ) {
      const n = readSync(fd, data, read, size - read, read);
      if (n === 0) return data.subarray(0, read); // shorter than it was a moment ago
      read += n;
    }
  } finally {
    closeSync(fd);
  }
  return data;
}

/**
 * A sealed segment (not the partition's last): every record in it was durable before the next segment began, so
 * it cannot have a torn tail, and opening it only needs its sparse index. That comes from a walk over the record
 * lengths, without a CRC check per record (reads check each record's CRC). Null when the lengths or offsets do
 * not add up: then the full recovery decides what to keep.
 */
function indexSealedSegment(path: string, baseOffset: number): Segment | null {
  const data = readWhole(path);
  const segment = emptySegment(baseOffset, path);
  let at = 0;
  let last = -1;
  let count = 0;
  while (at < data.length) {
    const end = recordEnd(data, at);
    if (end < 0) return null;
    if (count % INDEX_EVERY === 0) {
      if (recordOffset(data, at) !== baseOffset + count) return null;
      segment.index.push(baseOffset + count, at);
    }
    last = at;
    count++;
    at = end;
  }
  if (last >= 0 && recordOffset(data, last) !== baseOffset + count - 1) return null;
  segment.endOffset = baseOffset + count;
  segment.lastArrivalTime = last >= 0 ? recordArrivalTime(data, last) : 0;
  segment.size = at;
  return segment;
}

/** Scans a segment file, keeping its valid prefix; a torn or corrupt tail is cut off and reported. */
function recoverSegment(
  path: string,
  baseOffset: number,
): { segment: Segment; report: RecoveryReport | null } {
  const data = readWhole(path);
  const segment = emptySegment(baseOffset, path);
  let at = 0;
  let count = 0;
  for (;;) {
    const record = decodeRecord(data, at);
    if (!record) break;
    if (count % INDEX_EVERY === 0) {
      segment.index.push(record.offset, at);
    }
    count++;
    segment.endOffset = record.offset + 1;
    segment.lastArrivalTime = record.arrivalTime;
    at = record.end;
  }
  segment.size = at;
  if (at === data.length) return { segment, report: null };
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { segment, report: { segment: path, validBytes: at, truncatedBytes: data.length - at } };
}

export class Partition {
  private readonly segments: Segment[] = [];
  private active: FileHandle | null = null;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private failure: LogError | null = null;
  private closed = false;
  readonly recovery: RecoveryReport[] = [];
  /** The latest durable batches, at most TAIL_BYTES of them. */
  private readonly tail = new TailRing(TAIL_BYTES);

  private constructor(
    readonly dir: string,
    private readonly options: PartitionOptions,
  ) {}

  static async open(dir: string, options: PartitionOptions): Promise<Partition> {
    mkdirSync(dir, { recursive: true });
    const partition = new Partition(dir, options);
    const names = readdirSync(dir)
      .filter((name) => /^\d{20}\.log$/.test(name))
      .sort();
    for (const [i, name] of names.entries()) {
      const path = join(dir, name);
      const baseOffset = Number(name.slice(0, 20));
      const sealed = i < names.length - 1 ? indexSealedSegment(path, baseOffset) : null;
      if (sealed) {
        partition.segments.push(sealed);
        continue;
      }
      // The last segment, where a crash can leave a torn tail, is checked record by record.
      const { segment, report } = recoverSegment(path, baseOffset);
      partition.segments.push(segment);
      if (report) partition.recovery.push(report);
    }
    if (partition.segments.length === 0) partition.segments.push(partition.createSegment(0));
    partition.active = await partition.openForWrite(partition.last.path);
    return partition;
  }

  private openForWrite(path: string): Promise<FileHandle> {
    return (this.options.openForWrite ?? open)(path, WRITE_FLAGS);
  }

  private get last(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private createSegment(baseOffset: number): Segment {
    const path = join(this.dir, segmentName(baseOffset));
    if (!existsSync(path)) {
      closeSync(openSync(path, 'w'));
      fsyncDirectory(this.dir);
    }
    return emptySegment(baseOffset, path);
  }

  /** The offset the next record will get. */
  get endOffset(): number {
    return this.last.endOffset;
  }

  /** Queues records (kept together and in order); resolves with the first one's offset once all are durable. */
  appendUnsealed(records: UnsealedRecords): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed)
      return Promise.reject(new LogError('TRIBUTARY_LOG_CLOSED', `partition ${this.dir} is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ ...records, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Yield once so that appends made in the same tick join this batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      await this.writeBatch(batch);
    }
    this.flushing = null;
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    if (this.failure) {
      for (const p of batch) p.reject(this.failure);
      return;
    }
    let bytes = 0;
    let count = 0;
    for (const p of batch) {
      bytes += p.buffer.length;
      count += p.count;
    }
    if (this.last.size > 0 && this.last.size + bytes > this.options.segmentBytes) await this.roll();
    const segment = this.last;
    const buffer =
      batch.length === 1
        ? batch[0]!.buffer
        : Buffer.concat(
            batch.map((p) => p.buffer),
            bytes,
          );
    const firstOffset = segment.endOffset;
    const indexed: number[] = [];
    for (let k = 0, at = 0, offset = firstOffset; k < count; k++, offset++) {
      if ((offset - segment.baseOffset) % INDEX_EVERY === 0) indexed.push(offset, segment.size + at);
      at = sealRecord(buffer, at, offset);
    }
    const lastArrivalTime = count ? batch[batch.length - 1]!.lastArrivalTime : segment.lastArrivalTime;
    try {
      let written = 0;
      while (written < bytes)
        written += (await this.active!.write(buffer, written, bytes - written, segment.size + written))
          .bytesWritten;
    } catch (error) {
      await this.active!.truncate(segment.size).catch(() => undefined); // nothing acknowledged is past this point
      const diskFull = (error as NodeJS.ErrnoException).code === 'ENOSPC';
      const failure = diskFull
        ? new LogError(
            'TRIBUTARY_LOG_DISK_FULL',
            `the disk holding ${this.dir} is full: free space, then retry`,
            { cause: error },
          )
        : this.fail(error);
      for (const p of batch) p.reject(failure);
      return;
    }
    try {
      if (!SYNC_ON_WRITE) await this.active!.datasync();
    } catch (error) {
      const failure = this.fail(error);
      for (const p of batch) p.reject(failure);
      return;
    }
    for (let i = 0; i < indexed.length; i += 2) {
      segment.index.push(indexed[i]!, indexed[i + 1]!);
    }
    segment.size += bytes;
    segment.endOffset = firstOffset + count;
    segment.lastArrivalTime = lastArrivalTime;
    this.tail.add(firstOffset, firstOffset + count, buffer);
    let first = firstOffset;
    for (const p of batch) {
      p.resolve(first);
      first += p.count;
    }
    // In a microtask of its own: whatever the listener does, this writer's loop goes on.
    if (this.options.onDurable) queueMicrotask(this.options.onDurable);
  }

  /** An fsync or write error: the writer stops for good (the OS may have lost the pages; retrying would lie). */
  private fail(error: unknown): LogError {
    this.failure = new LogError(
      'TRIBUTARY_LOG_WRITER_FAILED',
      `writing ${this.dir} failed; the log stops accepting writes (restart to recover): ${(error as Error).message}`,
      { cause: error },
    );
    return this.failure;
  }

  private async roll(): Promise<void> {
    await this.active!.close();
    this.segments.push(this.createSegment(this.last.endOffset));
    this.active = await this.openForWrite(this.last.path);
  }

  /** Records from `offset` on, at most `max`. */
  async read(offset: number, max: number): Promise<DecodedRecord[]> {
    const recent = this.readTail(offset, max);
    if (recent) return recent;
    const out: DecodedRecord[] = [];
    let s = this.segments.findIndex((seg) => offset < seg.endOffset);
    if (s < 0) return out;
    while (s < this.segments.length && out.length < max) {
      const segment = this.segments[s]!;
      const size = segment.size; // only what is durable
      const indexed = segment.index.lastAtOffset(offset);
      let position = indexed >= 0 ? segment.index.positionAt(indexed) : 0;
      const file = await open(segment.path, 'r');
      try {
        while (position < size && out.length < max) {
          const chunk = Buffer.alloc(Math.min(size - position, 1 << 20));
          await file.read(chunk, 0, chunk.length, position);
          let at = 0;
          let record = decodeRecord(chunk, at);
          if (!record) {
            // A record longer than the chunk: read exactly it.
            const length = chunk.readUInt32LE(0) + 8;
            const whole = Buffer.alloc(length);
            await file.read(whole, 0, length, position);
            record = decodeRecord(whole, 0);
            if (!record)
              throw new LogError(
                'TRIBUTARY_LOG_CORRUPT',
                `corrupt record in ${segment.path} at byte ${position}`,
              );
            if (record.offset >= offset) out.push({ ...record, value: Buffer.from(record.value) });
            position += record.end;
            continue;
          }
          while (record && out.length < max) {
            if (record.offset >= offset) out.push(record);
            at = record.end;
            record = decodeRecord(chunk, at);
          }
          position += at;
        }
      } finally {
        await file.close();
      }
      s++;
    }
    return out;
  }

  /**
   * About `maxBytes` of whole records as the segment file holds them, from the index point at or before `offset`
   * (at most INDEX_EVERY - 1 records before it) to an index point or the segment's durable end, so that the
   * bytes end on a record boundary that the sparse index already knows. Null past the durable end.
   */
  async readBytes(offset: number, maxBytes: number): Promise<RecordBytes | null> {
    const segment = this.segments.find((seg) => offset < seg.endOffset);
    if (!segment) return null;
    // A snapshot of what is durable: the index grows with the size, together, after each commit.
    const size = segment.size;
    const segmentEnd = segment.endOffset;
    const { index } = segment;
    const first = Math.max(0, index.lastAtOffset(offset));
    const start = index.positionAt(first);
    let end = size;
    let endOffset = segmentEnd;
    if (start + maxBytes < size) {
      const last = Math.max(first + 1, index.lastAtPosition(start + maxBytes));
      if (last < index.length && index.positionAt(last) < size) {
        end = index.positionAt(last);
        endOffset = index.offsetAt(last);
      }
    }
    const bytes = new Uint8Array(end - start);
    const file = await open(segment.path, 'r');
    try {
      let read = 0;
      while (read < bytes.length)
        read += (await file.read(bytes, read, bytes.length - read, start + read)).bytesRead;
    } finally {
      await file.close();
    }
    return { bytes, firstOffset: index.offsetAt(first), endOffset };
  }

  /** Records from `offset` on (at most `max`) from the batches kept in memory, or null when they start earlier. */
  private readTail(offset: number, max: number): DecodedRecord[] | null {
    const batches = this.tail.batchesFrom(offset);
    if (!batches) return null;
    const out: DecodedRecord[] = [];
    for (const buffer of batches) {
      let record = decodeRecord(buffer, 0);
      while (record && out.length < max) {
        if (record.offset >= offset) out.push(record);
        record = decodeRecord(buffer, record.end);
      }
      if (out.length >= max) break;
    }
    return out;
  }

  /** Deletes sealed segments whose last record arrived before `cutoff` (the active segment stays). */
  deleteSegmentsBefore(cutoff: number): number {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[0]!.lastArrivalTime < cutoff) {
      unlinkSync(this.segments.shift()!.path);
      removed++;
    }
    if (removed) fsyncDirectory(this.dir);
    return removed;
  }

  /** Highest arrival sequence held (for the stream's counter after a restart), -1 when empty. */
  async lastSequence(): Promise<number> {
    const end = this.endOffset;
    if (end === this.segments[0]!.baseOffset) return -1;
    const [record] = await this.read(end - 1, 1);
    return record ? record.sequence : -1;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.flushing) await this.flushing;
    await this.active?.close();
    this.active = null;
  }
}
