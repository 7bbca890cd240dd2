/**
 * The log, in Kafka's model: streams of partitions of ordered, offset-addressed records, keyed by entity, with
 * consumers' committed positions. The embedded log (segment files, the default) implements it; a Kafka adapter
 * will implement the same interface.
 */

/**
 * A record as appended: the entity key (chooses the partition) and the payload: bytes, or text stored as UTF-8,
 * or any value that the append's `ValueEncoder` writes.
 */
export interface AppendRecord<V = Uint8Array | string> {
  readonly key: string;
  readonly value: V;
  /** Arrival time, epoch ms (set by the intake, not by the log). */
  readonly arrivalTime: number;
}

/** Where an appended record landed; returned only once it is durable. */
export interface AppendResult {
  readonly partition: number;
  readonly offset: number;
  /** The stream's arrival sequence: increasing in acceptance order across all partitions. */
  readonly sequence: number;
}

export interface LogRecord {
  readonly partition: number;
  readonly offset: number;
  readonly sequence: number;
  readonly arrivalTime: number;
  readonly key: string;
  readonly value: Uint8Array;
}

/**
 * Whole records of a partition as stored (the embedded log's record layout, record-format.ts), from
 * `firstOffset` to `endOffset` (exclusive), offsets contiguous.
 */
export interface RecordBytes {
  readonly bytes: Uint8Array;
  readonly firstOffset: number;
  readonly endOffset: number;
}

/**
 * Writes values of the appender's own form straight into the log's buffers (no copy made beforehand): each one's
 * exact length in bytes, then its bytes at `at`.
 */
export interface ValueEncoder<V> {
  byteLength(value: V): number;
  write(value: V, out: Buffer, at: number): void;
}

export interface Log {
  /** Appends records of one stream; resolves when all are durable (fsynced), in order. */
  append(stream: string, records: readonly AppendRecord[]): Promise<AppendResult[]>;
  /** `append` for values that `encoder` writes. */
  append<V>(
    stream: string,
    records: readonly AppendRecord<V>[],
    encoder: ValueEncoder<V>,
  ): Promise<AppendResult[]>;
  /** Records of a partition from `offset` on, at most `max`. */
  read(stream: string, partition: number, offset: number, max: number): Promise<LogRecord[]>;
  /**
   * Optional (the embedded log has it): about `maxBytes` of whole records, from the one holding `offset` or a few
   * before it (a reader skips those), for readers that decode records on another thread. Null past the end.
   */
  readBytes?(
    stream: string,
    partition: number,
    offset: number,
    maxBytes: number,
  ): Promise<RecordBytes | null>;
  /**
   * Optional (the embedded log has it: this process is its one writer): calls `listener` with the stream's name
   * each time records of it become durable and readable, so that a reader can follow the log without polling it.
   * Returns the function that stops the calls.
   */
  watch?(listener: (stream: string) => void): () => void;
  /** The offset the next record of a partition will get. */
  endOffset(stream: string, partition: number): number;
  partitions(stream: string): number;
  /** A consumer's durable position (the next offset it will read), 0 when never committed. */
  committed(consumer: string, stream: string, partition: number): number;
  commit(consumer: string, stream: string, positions: ReadonlyMap<number, number>): Promise<void>;
  close(): Promise<void>;
}

export class LogError extends Error {
  constructor(
    readonly code:
      | 'TRIBUTARY_LOG_WRITER_FAILED'
      | 'TRIBUTARY_LOG_DISK_FULL'
      | 'TRIBUTARY_LOG_CLOSED'
      | 'TRIBUTARY_LOG_CORRUPT'
      | 'TRIBUTARY_LOG_UNKNOWN_STREAM',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LogError';
  }
}
