/**
 * The intake: the one path by which events enter (HTTP, files and the programmatic API all call `ingest`).
 * Each event is checked against its stream's contract and normalised, de-duplicated by id over the stream's
 * horizon (first valid arrival wins; the memory is rebuilt from the log on open, so it survives restarts),
 * appended durably to the log, or dead-lettered with its reason. `ingest` resolves only when every accepted
 * event is fsynced and every refused one is stored.
 */
import { StreamContract } from '../contracts/contract.js';
import { type DeadLetterInput, DeadLetterStore, UNKNOWN_STREAM } from '../contracts/dead-letters.js';
import type { ScannedEvent } from '../contracts/flat-event-scanner.js';
import type { Rejection, RejectionReason } from '../contracts/rejection.js';
import type { Plan, StreamPlan } from '../definitions/plan.js';
import { DEFAULT_DEDUPE_HORIZON_MS, Deduplicator } from '../engine/core/dedupe.js';
import type { EmbeddedLog } from '../log/embedded/embedded-log.js';
import type { AppendRecord, ValueEncoder } from '../log/log.js';
import { doubled } from '../util/typed-arrays.js';
import { decimalLength, putDecimal } from './decimal.js';

/**
 * One event offered to the intake: JSON text, UTF-8 JSON text as bytes [start, end) of a buffer (a line of an
 * NDJSON body or file, unsliced), or an already-parsed value.
 */
export type IngestItem =
  | { readonly text: string }
  | { readonly bytes: Buffer; readonly start: number; readonly end: number }
  | { readonly value: unknown };

export interface IngestResult {
  readonly accepted: number;
  readonly duplicates: number;
  readonly rejected: { readonly line: number; readonly reason: RejectionReason; readonly detail: string }[];
  /** True when the stream is not defined: everything went to the project-wide dead letters. */
  readonly unknownStream: boolean;
  /** Per partition, the offset after the last accepted event (what a reader must reach to see them all). */
  readonly durableEnds?: ReadonlyMap<number, number>;
}

export interface IngestOptions {
  /** Each item's line in its batch or file (default 1, 2, …). */
  readonly lines?: readonly number[];
  /** Where the items came from (a file name), kept with dead letters. */
  readonly source?: string;
  /** False: refusals are only reported, not stored (replay). */
  readonly deadLetter?: boolean;
}

/** What the log holds for an accepted event. */
export interface StoredEvent {
  /** Event time, epoch ms. */
  readonly t: number;
  readonly f: Record<string, unknown>;
}

/** An accepted event as read back from the log (decoded in place, without copying the bytes). */
export function decodeStoredEvent(value: Uint8Array): StoredEvent {
  // The log hands out Buffers: decode them in place, without a second view.
  const bytes = Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return JSON.parse(bytes.toString('utf8')) as StoredEvent;
}

export interface IntakeOptions {
  /** The clock: arrival times come from it. */
  readonly now?: () => number;
  readonly maxEventBytes?: number;
  readonly dedupeHorizonMs?: number;
  readonly futureSkewMs?: number;
}

export class UnknownStreamError extends Error {
  readonly code = 'TRIBUTARY_UNKNOWN_STREAM';
  constructor(
    readonly stream: string,
    readonly known: readonly string[],
  ) {
    super(`unknown stream or table \`${stream}\`; known: ${known.join(', ') || 'none'}`);
  }
}

/** A table is ingested as a stream keyed by the table key, with its valid-from as the time. */
export function tableAsStream(plan: Plan, name: string): StreamPlan | null {
  const table = plan.tables[name];
  if (!table) return null;
  return {
    name,
    keys: { [name]: table.keyField },
    timeField: table.validFromField,
    compatibility: 'BACKWARD',
    schema: table.schema,
    fields: table.fields,
  };
}

export class Intake {
  private readonly contracts = new Map<string, StreamContract>();
  private readonly dedupers = new Map<string, Deduplicator>();
  readonly deadLetters: DeadLetterStore;
  private readonly now: () => number;
  private readonly maxEventBytes: number;
  /** Columns for the events of a batch stored as produced, reused by the next batches (no arrays per batch). */
  private readonly spareAsProduced: EventsAsProduced[] = [];
  /** Accepted and duplicate counts per stream since start (rejections: deadLetters.countsOf). */
  readonly stats = new Map<string, { accepted: number; duplicates: number }>();

  private constructor(
    readonly plan: Plan,
    readonly log: EmbeddedLog,
    private readonly options: IntakeOptions,
  ) {
    this.deadLetters = new DeadLetterStore(log);
    this.now = options.now ?? Date.now;
    this.maxEventBytes = options.maxEventBytes ?? 1024 * 1024;
  }

  /** Opens the intake over a log, rebuilding the de-duplication memory from what the log holds. */
  static async open(plan: Plan, log: EmbeddedLog, options: IntakeOptions = {}): Promise<Intake> {
    const intake = new Intake(plan, log, options);
    const now = intake.now();
    for (const stream of Object.values(plan.streams)) {
      if (!stream.idField) continue;
      const dedupe = intake.deduper(stream.name);
      for (let p = 0; p < log.partitions(stream.name); p++) {
        for (let offset = 0; offset < log.endOffset(stream.name, p); ) {
          const records = await log.read(stream.name, p, offset, 10_000);
          if (!records.length) break;
          for (const record of records) {
            offset = record.offset + 1;
            if (now - record.arrivalTime > (options.dedupeHorizonMs ?? DEFAULT_DEDUPE_HORIZON_MS)) continue;
            const stored = decodeStoredEvent(record.value);
            const id = stored.f[stream.idField];
            if (id !== undefined && id !== null) dedupe.accept(String(id), record.arrivalTime);
          }
        }
      }
    }
    return intake;
  }

  private contract(stream: string): StreamContract | null {
    let contract = this.contracts.get(stream);
    if (!contract) {
      const plan = this.plan.streams[stream] ?? tableAsStream(this.plan, stream);
      if (!plan) return null;
      // Tables may carry valid-from times in the future (a scheduled change): no future-time check for them.
      const futureSkewMs = stream in this.plan.streams ? this.options.futureSkewMs : Number.POSITIVE_INFINITY;
      contract = new StreamContract(plan, futureSkewMs === undefined ? {} : { futureSkewMs });
      this.contracts.set(stream, contract);
    }
    return contract;
  }

  private deduper(stream: string): Deduplicator {
    let dedupe = this.dedupers.get(stream);
    if (!dedupe) this.dedupers.set(stream, (dedupe = new Deduplicator(this.options.dedupeHorizonMs)));
    return dedupe;
  }

  /**
   * Checks, de-duplicates and durably stores a batch of events of one stream (or table).
   */
  async ingest(
    stream: string,
    items: readonly IngestItem[],
    options: IngestOptions = {},
  ): Promise<IngestResult> {
    const { lines, source, deadLetter = true } = options;
    const lineOf = (i: number) => lines?.[i] ?? i + 1;
    const arrivalTime = this.now();
    const contract = this.contract(stream);
    if (!contract) {
      const letters = items.map((item, i) => ({
        rejection: { reason: 'unknown_stream' as const, detail: `stream \`${stream}\` is not defined` },
        raw: rawOf(item),
        schemaVersion: null,
        arrivalTime,
        line: lineOf(i),
        ...(source ? { source } : {}),
      }));
      await this.deadLetters.add(UNKNOWN_STREAM, letters);
      return {
        accepted: 0,
        duplicates: 0,
        rejected: letters.map((l) => ({
          line: l.line,
          reason: l.rejection.reason,
          detail: l.rejection.detail,
        })),
        unknownStream: true,
      };
    }
    const plan = contract.stream;
    const dedupe = plan.idField ? this.deduper(stream) : null;
    const partitionEntity = Object.keys(plan.keys)[0]!;
    const records: AppendRecord<StoredValue>[] = [];
    const asProduced = this.spareAsProduced.pop() ?? new EventsAsProduced();
    // What this batch added to the de-duplication memory as strings, to take back if it is not stored (ids
    // remembered from their bytes are listed by asProduced).
    const acceptedIds: string[] = [];
    const letters: DeadLetterInput[] = [];
    let duplicates = 0;
    const scanned: ScannedEvent = { time: 0, partitionKey: '', id: null, idStart: -1, idEnd: -1 };
    for (let i = 0; i < items.length; i++) {
      let item = items[i]!;
      let key: string;
      let id: string | null;
      let value: StoredValue;
      if ('text' in item) item = { bytes: Buffer.from(item.text, 'utf8'), start: 0, end: -1 };
      const bytes = 'bytes' in item ? item.bytes : null;
      const start = 'bytes' in item ? item.start : 0;
      const end = 'bytes' in item ? (item.end < 0 ? item.bytes.length : item.end) : 0;
      if (
        bytes &&
        end - start <= this.maxEventBytes &&
        contract.checkBytes(bytes, start, end, arrivalTime, scanned)
      ) {
        // Certainly valid and already normal: stored as the producer wrote it, bytes for bytes.
        key = scanned.partitionKey;
        if (dedupe && scanned.idStart >= 0) {
          // An ASCII id, remembered from its bytes: no string.
          if (!dedupe.acceptBytes(bytes, scanned.idStart, scanned.idEnd, arrivalTime)) {
            duplicates++;
            continue;
          }
          const value = asProduced.add(bytes, start, end, scanned.time, scanned.idStart, scanned.idEnd);
          records.push({ key, arrivalTime, value });
          continue;
        }
        value = asProduced.add(bytes, start, end, scanned.time, -1, -1);
        id = scanned.id;
      } else {
        const text = bytes ? bytes.toString('utf8', start, end) : null;
        const refuse = (rejection: Rejection) => {
          letters.push({
            rejection,
            raw: text ?? rawOf(item),
            schemaVersion: contract.schemaVersion,
            arrivalTime,
            line: lineOf(i),
            ...(source ? { source } : {}),
          });
        };
        const parsed = parseItem(text === null ? textOrValue(item) : { text }, this.maxEventBytes);
        if ('rejection' in parsed) {
          refuse(parsed.rejection);
          continue;
        }
        const checked = contract.check(parsed.value, arrivalTime);
        if (!checked.ok) {
          refuse(checked.rejection);
          continue;
        }
        const { event } = checked;
        key = event.keys[partitionEntity]!;
        id = event.id;
        // The producer's own JSON text when normalisation changed nothing: it parsed, so it is valid JSON. The time
        // goes through JSON.stringify, not a template: a template would put each new time in V8's number-to-string
        // cache, which keeps it alive through every scavenge (docs/decisions.md).
        value =
          text !== null && !event.normalised
            ? `{"t":${JSON.stringify(event.time)},"f":${text}}`
            : JSON.stringify({ t: event.time, f: event.fields } satisfies StoredEvent);
      }
      if (dedupe && id !== null) {
        if (!dedupe.accept(id, arrivalTime)) {
          duplicates++;
          continue;
        }
        acceptedIds.push(id);
      }
      records.push({ key, arrivalTime, value });
    }
    const durableEnds = new Map<number, number>();
    try {
      const [appended] = await Promise.all([
        records.length ? this.log.append(stream, records, asProduced) : null,
        deadLetter ? this.deadLetters.add(stream, letters) : null,
      ]);
      for (const r of appended ?? [])
        durableEnds.set(r.partition, Math.max(durableEnds.get(r.partition) ?? 0, r.offset + 1));
    } catch (error) {
      // Not stored: these ids have not arrived, so a retry must not count as a duplicate.
      for (const id of acceptedIds) dedupe?.forget(id);
      if (dedupe)
        asProduced.forEachId((source, idStart, idEnd) => dedupe.forgetBytes(source, idStart, idEnd));
      throw error;
    } finally {
      asProduced.clear();
      this.spareAsProduced.push(asProduced);
    }
    const stats = this.stats.get(stream) ?? { accepted: 0, duplicates: 0 };
    stats.accepted += records.length;
    stats.duplicates += duplicates;
    this.stats.set(stream, stats);
    return {
      accepted: records.length,
      duplicates,
      rejected: letters.map((l) => ({
        line: l.line!,
        reason: l.rejection.reason,
        detail: l.rejection.detail,
      })),
      unknownStream: false,
      durableEnds,
    };
  }

  /**
   * Replays a stream's dead letters (after the schema or the data was fixed): each is checked again as a new
   * arrival. One accepted (or found to be a duplicate) is marked replayed and never replayed again; one still
   * refused stays where it is, for the next fix, and is not dead-lettered a second time.
   */
  async replay(
    stream: string,
    options: { reason?: string } = {},
  ): Promise<{ replayed: number; result: IngestResult }> {
    const done = this.deadLetters.replayed(stream);
    const offsets: number[] = [];
    const items: IngestItem[] = [];
    for (let cursor: number | null = 0; cursor !== null; ) {
      const page = await this.deadLetters.list(stream, {
        cursor,
        limit: 10_000,
        ...(options.reason ? { reason: options.reason } : {}),
      });
      for (const letter of page.letters) {
        if (done.has(letter.offset)) continue;
        offsets.push(letter.offset);
        items.push({ text: letter.raw });
      }
      cursor = page.nextCursor;
    }
    if (stream === UNKNOWN_STREAM)
      return { replayed: 0, result: { accepted: 0, duplicates: 0, rejected: [], unknownStream: true } };
    const result = await this.ingest(stream, items, { deadLetter: false });
    const stillRefused = new Set(result.rejected.map((r) => r.line - 1));
    const replayed = offsets.filter((_, i) => !stillRefused.has(i));
    this.deadLetters.markReplayed(stream, replayed);
    return { replayed: replayed.length, result };
  }
}

/**
 * A stored event's value: its JSON text, or the index of an event stored as its producer wrote it (in the
 * batch's EventsAsProduced).
 */
type StoredValue = string | number;

/**
 * One batch's events stored as their producers wrote them (certainly valid and already normal): each is
 * `{"t":<time>,"f":` + bytes [start, end) of its source + `}`, written by this encoder straight into the log's
 * buffer (one copy of the bytes). Their rows are columns, so that an event costs no object of its own; a record's
 * value is its row. Values given as strings (events the full check normalised) are written as UTF-8.
 */
class EventsAsProduced implements ValueEncoder<StoredValue> {
  private readonly sources: Buffer[] = [];
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private times = new Float64Array(1024);
  /** The id's bytes in the source when it was remembered from them, else -1. */
  private idStarts = new Int32Array(1024);
  private idEnds = new Int32Array(1024);

  /** Adds an event; returns its row (the record's value). */
  add(source: Buffer, start: number, end: number, time: number, idStart: number, idEnd: number): number {
    const row = this.sources.length;
    if (row === this.starts.length) this.grow();
    this.sources.push(source);
    this.starts[row] = start;
    this.ends[row] = end;
    this.times[row] = time;
    this.idStarts[row] = idStart;
    this.idEnds[row] = idEnd;
    return row;
  }

  /** Empties it for the next batch (and lets go of this one's sources). */
  clear(): void {
    this.sources.length = 0;
  }

  private grow(): void {
    this.starts = doubled(this.starts);
    this.ends = doubled(this.ends);
    this.times = doubled(this.times);
    this.idStarts = doubled(this.idStarts);
    this.idEnds = doubled(this.idEnds);
  }

  /** Visits the ids that were remembered from their bytes. */
  forEachId(visit: (source: Buffer, idStart: number, idEnd: number) => void): void {
    for (let row = 0; row < this.sources.length; row++)
      if (this.idStarts[row]! >= 0) visit(this.sources[row]!, this.idStarts[row]!, this.idEnds[row]!);
  }

  byteLength(value: StoredValue): number {
    if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
    return FRAME_BYTES + decimalLength(this.times[value]!) + this.ends[value]! - this.starts[value]!;
  }

  write(value: StoredValue, out: Buffer, at: number): void {
    if (typeof value === 'string') {
      out.write(value, at, 'utf8');
      return;
    }
    at = putBytes(out, at, TIME_OPEN);
    at = putDecimal(out, at, this.times[value]!);
    at = putBytes(out, at, FIELDS_OPEN);
    at = putBytes(out, at, this.sources[value]!, this.starts[value]!, this.ends[value]!);
    out[at] = 0x7d; // }
  }
}

const TIME_OPEN = Buffer.from('{"t":');
const FIELDS_OPEN = Buffer.from(',"f":');
/** `{"t":` + `,"f":` + `}` */
const FRAME_BYTES = 11;

/**
 * Copies bytes [start, end) of `bytes` into `buffer` at `at`; returns the position after them. A loop: an event is
 * a few hundred bytes, and Buffer#copy of a range makes a view of it first (an object per event).
 */
function putBytes(buffer: Buffer, at: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  for (let k = start; k < end; k++) buffer[at++] = bytes[k]!;
  return at;
}

/** An item as JSON text (bytes decoded) or as its already-parsed value. */
export function textOrValue(item: IngestItem): { readonly text: string } | { readonly value: unknown } {
  if ('bytes' in item)
    return { text: item.bytes.toString('utf8', item.start, item.end < 0 ? undefined : item.end) };
  return item;
}

function rawOf(item: IngestItem): string {
  const plain = textOrValue(item);
  if ('text' in plain) return plain.text;
  try {
    return JSON.stringify(plain.value) ?? String(plain.value);
  } catch {
    return String(plain.value);
  }
}

function parseItem(
  item: { readonly text: string } | { readonly value: unknown },
  maxBytes: number,
): { value: unknown } | { rejection: Rejection } {
  if (!('text' in item)) return { value: item.value };
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a long text needs its exact size.
  const bytes = item.text.length * 3 <= maxBytes ? 0 : Buffer.byteLength(item.text, 'utf8');
  if (bytes > maxBytes)
    return {
      rejection: { reason: 'too_large', detail: `the event is ${bytes} bytes; the limit is ${maxBytes}` },
    };
  try {
    return { value: JSON.parse(item.text) };
  } catch (error) {
    return { rejection: { reason: 'malformed_json', detail: (error as Error).message } };
  }
}
