/**
 * The embedded log: the default `Log`, in a folder (`.tributary/log` of a project).
 *
 *   <root>/LOCK                                one process owns the log (its pid)
 *   <root>/<stream>/meta.json                  { "partitions": n }, fixed when the stream is created
 *   <root>/<stream>/<partition>/<base>.log     segments (record layout: record-format.ts)
 *   <root>/<stream>/consumers/<name>.json      committed positions, replaced atomically
 *
 * Records of an entity go to partition toPositive(murmur2(key)) % n, as Kafka's default partitioner does.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AppendRecord,
  type AppendResult,
  type Log,
  LogError,
  type LogRecord,
  type RecordBytes,
  type ValueEncoder,
} from '../log.js';
import { partitionOfBytes } from '../murmur2.js';
import { writeDurably } from './durable-file.js';
import { Partition, type RecoveryReport } from './partition.js';
import { encodedSize, MAX_RECORD_BYTES, PLAIN_VALUES, writeUnsealedRecord } from './record-format.js';

/** The keys of an append in UTF-8, back to back: each is encoded once, hashed, then copied into its record. */
let keyArena = Buffer.allocUnsafe(1 << 16);

export interface EmbeddedLogOptions {
  /** Partitions of a stream created by this log. */
  readonly partitions?: number;
  readonly segmentBytes?: number;
  /** Opens segments for writing (tests inject failing disks here). */
  readonly openForWrite?: (path: string, flags: number) => Promise<import('node:fs/promises').FileHandle>;
}

interface StreamState {
  readonly partitions: Partition[];
  nextSequence: number;
}

const STREAM_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class EmbeddedLog implements Log {
  private readonly streams = new Map<string, StreamState>();
  private readonly opening = new Map<string, Promise<StreamState>>();
  private readonly positions = new Map<string, Map<number, number>>();
  /** What recovery cut off when streams were opened (torn tails after a crash, corrupt bytes). */
  readonly recovery: RecoveryReport[] = [];
  private readonly watchers = new Set<(stream: string) => void>();
  private closed = false;

  private constructor(
    readonly root: string,
    private readonly options: Required<Omit<EmbeddedLogOptions, 'openForWrite'>> &
      Pick<EmbeddedLogOptions, 'openForWrite'>,
  ) {}

  /** Opens (or creates) the log in `root`, taking its lock, and recovers every stream already there. */
  static async open(root: string, options: EmbeddedLogOptions = {}): Promise<EmbeddedLog> {
    mkdirSync(root, { recursive: true });
    const lock = join(root, 'LOCK');
    if (existsSync(lock)) {
      const owner = Number(readFileSync(lock, 'utf8'));
      if (owner && owner !== process.pid && processAlive(owner)) {
        throw new LogError(
          'TRIBUTARY_LOG_CLOSED',
          `the log in ${root} is owned by process ${owner}; stop it first (one process owns a project's state)`,
        );
      }
    }
    writeDurably(lock, String(process.pid));
    const log = new EmbeddedLog(root, {
      partitions: options.partitions ?? 4,
      segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
      ...(options.openForWrite ? { openForWrite: options.openForWrite } : {}),
    });
    for (const name of readdirSync(root))
      if (existsSync(join(root, name, 'meta.json'))) await log.stream(name);
    return log;
  }

  /** Creates a stream with `partitions` partitions if it does not exist yet (an existing one keeps its count). */
  async ensureStream(name: string, partitions: number): Promise<void> {
    if (this.streams.has(name) || this.opening.has(name)) {
      await this.stream(name);
      return;
    }
    const opening = this.openStream(name, partitions);
    this.opening.set(name, opening);
    await opening;
  }

  private stream(name: string): Promise<StreamState> {
    const existing = this.streams.get(name);
    if (existing) return Promise.resolve(existing);
    let opening = this.opening.get(name);
    if (!opening) {
      opening = this.openStream(name);
      this.opening.set(name, opening);
    }
    return opening;
  }

  private async openStream(name: string, newPartitions = this.options.partitions): Promise<StreamState> {
    if (!STREAM_NAME.test(name))
      throw new LogError('TRIBUTARY_LOG_UNKNOWN_STREAM', `\`${name}\` is not a valid stream name`);
    const dir = join(this.root, name);
    const metaPath = join(dir, 'meta.json');
    let partitions = newPartitions;
    if (existsSync(metaPath))
      partitions = (JSON.parse(readFileSync(metaPath, 'utf8')) as { partitions: number }).partitions;
    else {
      mkdirSync(dir, { recursive: true });
      writeDurably(metaPath, JSON.stringify({ partitions }));
    }
    const opened = await Promise.all(
      Array.from({ length: partitions }, (_, p) =>
        Partition.open(join(dir, String(p)), {
          segmentBytes: this.options.segmentBytes,
          onDurable: () => {
            for (const watcher of this.watchers) watcher(name);
          },
          ...(this.options.openForWrite ? { openForWrite: this.options.openForWrite } : {}),
        }),
      ),
    );
    for (const partition of opened) this.recovery.push(...partition.recovery);
    const lastSequences = await Promise.all(opened.map((p) => p.lastSequence()));
    const state = { partitions: opened, nextSequence: Math.max(-1, ...lastSequences) + 1 };
    this.streams.set(name, state);
    this.opening.delete(name);
    return state;
  }

  append(stream: string, records: readonly AppendRecord[]): Promise<AppendResult[]>;
  append<V>(
    stream: string,
    records: readonly AppendRecord<V>[],
    encoder: ValueEncoder<V>,
  ): Promise<AppendResult[]>;
  async append<V>(
    stream: string,
    records: readonly AppendRecord<V>[],
    encoder: ValueEncoder<V> = PLAIN_VALUES as ValueEncoder<V>,
  ): Promise<AppendResult[]> {
    if (this.closed) throw new LogError('TRIBUTARY_LOG_CLOSED', 'the log is closed');
    const state = await this.stream(stream);
    const n = state.partitions.length;
    const count = records.length;
    // First pass: each record's partition and sizes; nothing is queued unless every record fits.
    const partitionOfRecord = new Int32Array(count);
    const keyBytes = new Int32Array(count);
    const keyStarts = new Int32Array(count);
    let keysEnd = 0;
    const valueBytes = new Int32Array(count);
    const partitionBytes = new Float64Array(n);
    for (let i = 0; i < count; i++) {
      const { key, value } = records[i]!;
      if (keyArena.length - keysEnd < key.length * 3) {
        const grown = Buffer.allocUnsafe(Math.max(2 * keyArena.length, keysEnd + key.length * 3));
        keyArena.copy(grown, 0, 0, keysEnd);
        keyArena = grown;
      }
      const kb = keyArena.write(key, keysEnd, 'utf8');
      keyStarts[i] = keysEnd;
      keysEnd += kb;
      const vb = encoder.byteLength(value);
      const size = encodedSize(kb, vb);
      if (size > MAX_RECORD_BYTES)
        throw new LogError(
          'TRIBUTARY_LOG_CORRUPT',
          `a record of ${vb} bytes is over the ${MAX_RECORD_BYTES}-byte limit`,
        );
      const partition = partitionOfBytes(keyArena, kb, n, keyStarts[i]!);
      partitionOfRecord[i] = partition;
      keyBytes[i] = kb;
      valueBytes[i] = vb;
      partitionBytes[partition]! += size;
    }
    // Second pass: records written straight into one buffer per partition, sequences in the order given.
    const buffers: (Buffer | null)[] = Array.from(partitionBytes, (bytes) =>
      bytes ? Buffer.allocUnsafe(bytes) : null,
    );
    const written = new Float64Array(n);
    const rank = new Int32Array(count);
    const counts = new Int32Array(n);
    const sequences = new Float64Array(count);
    const lastArrival = new Float64Array(n);
    for (let i = 0; i < count; i++) {
      const { value, arrivalTime } = records[i]!;
      const p = partitionOfRecord[i]!;
      const sequence = state.nextSequence++;
      sequences[i] = sequence;
      rank[i] = counts[p]!++;
      lastArrival[p] = arrivalTime;
      written[p] = writeUnsealedRecord(
        buffers[p]!,
        written[p]!,
        sequence,
        arrivalTime,
        keyArena,
        keyBytes[i]!,
        value,
        valueBytes[i]!,
        encoder,
        keyStarts[i]!,
      );
    }
    const firstOffsets = await Promise.all(
      buffers.map((buffer, p) =>
        buffer
          ? state.partitions[p]!.appendUnsealed({
              buffer,
              count: counts[p]!,
              lastArrivalTime: lastArrival[p]!,
            })
          : -1,
      ),
    );
    const results: AppendResult[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const partition = partitionOfRecord[i]!;
      results[i] = { partition, offset: firstOffsets[partition]! + rank[i]!, sequence: sequences[i]! };
    }
    return results;
  }

  watch(listener: (stream: string) => void): () => void {
    // Wrapped, so that the same function watching twice is two watchers, each stopped by its own call.
    const watcher = (stream: string) => listener(stream);
    this.watchers.add(watcher);
    return () => {
      this.watchers.delete(watcher);
    };
  }

  private async partition(stream: string, partition: number): Promise<Partition> {
    const state = await this.stream(stream);
    const target = state.partitions[partition];
    if (!target)
      throw new LogError(
        'TRIBUTARY_LOG_UNKNOWN_STREAM',
        `stream \`${stream}\` has no partition ${partition}`,
      );
    return target;
  }

  async read(stream: string, partition: number, offset: number, max: number): Promise<LogRecord[]> {
    return (await (await this.partition(stream, partition)).read(offset, max)).map((r) => ({
      partition,
      offset: r.offset,
      sequence: r.sequence,
      arrivalTime: r.arrivalTime,
      key: r.key,
      value: r.value,
    }));
  }

  async readBytes(
    stream: string,
    partition: number,
    offset: number,
    maxBytes: number,
  ): Promise<RecordBytes | null> {
    return (await this.partition(stream, partition)).readBytes(offset, maxBytes);
  }

  endOffset(stream: string, partition: number): number {
    return this.streams.get(stream)?.partitions[partition]?.endOffset ?? 0;
  }

  partitions(stream: string): number {
    return this.streams.get(stream)?.partitions.length ?? this.options.partitions;
  }

  /** Streams that exist in this log. */
  streamNames(): string[] {
    return [...this.streams.keys()];
  }

  private positionsPath(consumer: string, stream: string): string {
    if (!STREAM_NAME.test(consumer))
      throw new LogError('TRIBUTARY_LOG_UNKNOWN_STREAM', `\`${consumer}\` is not a valid consumer name`);
    return join(this.root, stream, 'consumers', `${consumer}.json`);
  }

  committed(consumer: string, stream: string, partition: number): number {
    const key = `${consumer}\u0000${stream}`;
    let positions = this.positions.get(key);
    if (!positions) {
      const path = this.positionsPath(consumer, stream);
      const stored = existsSync(path)
        ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>)
        : {};
      positions = new Map(Object.entries(stored).map(([p, o]) => [Number(p), o]));
      this.positions.set(key, positions);
    }
    return positions.get(partition) ?? 0;
  }

  async commit(consumer: string, stream: string, positions: ReadonlyMap<number, number>): Promise<void> {
    const path = this.positionsPath(consumer, stream);
    this.committed(consumer, stream, 0); // load what is stored
    const merged = this.positions.get(`${consumer}\u0000${stream}`)!;
    for (const [partition, offset] of positions) merged.set(partition, offset);
    mkdirSync(join(this.root, stream, 'consumers'), { recursive: true });
    writeDurably(path, JSON.stringify(Object.fromEntries(merged)));
  }

  /** Deletes sealed segments whose records all arrived before `cutoff` (epoch ms). */
  enforceRetention(cutoff: number): number {
    let removed = 0;
    for (const state of this.streams.values())
      for (const p of state.partitions) removed += p.deleteSegmentsBefore(cutoff);
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const state of this.streams.values()) await Promise.all(state.partitions.map((p) => p.close()));
    const lock = join(this.root, 'LOCK');
    if (existsSync(lock) && Number(readFileSync(lock, 'utf8')) === process.pid) unlinkSync(lock);
  }
}
