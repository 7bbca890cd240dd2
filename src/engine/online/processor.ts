/**
 * The online processor: tails every partition of the streams and tables the plan reads, applies each new record
 * to the evaluation core (only the change: the core inserts the event into its entity's state), and checkpoints
 * the state together with the log positions it reflects. A restart loads the checkpoint and replays the log from
 * those positions (exactly-once effect); a checkpoint of another plan is ignored and the state is rebuilt from
 * the log, with its progress visible, before anything is served.
 *
 * Runs are serialised on one promise chain, so a checkpoint or a consistent read always sees state and positions
 * that belong together.
 */
import type { Plan } from '../../definitions/plan.js';
import { decodeStoredEvent } from '../../ingest/intake.js';
import type { Log } from '../../log/log.js';
import type { CheckpointStore } from '../../state/checkpoint-store.js';
import { Core } from '../core/core.js';
import type { Vector } from '../core/view-engine.js';
import type { DecodedColumns } from './decode-worker.js';
import { StoredEventDecoder } from './decoder.js';

export class HorizonError extends Error {
  readonly code = 'TRIBUTARY_BEYOND_HORIZON';
}

export class RebuildingError extends Error {
  readonly code = 'TRIBUTARY_REBUILDING';
}

export interface ProcessorStatus {
  readonly planHash: string;
  /** True while the state is rebuilt from the log (a new plan, or no checkpoint): reads wait for it. */
  readonly rebuilding: boolean;
  /** Records applied since start, and records in the log not applied yet. */
  readonly applied: number;
  readonly behind: number;
  /** Where the state came from at start. */
  readonly restoredFrom: 'checkpoint' | 'log';
  readonly lastCheckpointAt: number | null;
}

export interface ProcessorOptions {
  readonly plan: Plan;
  readonly log: Log;
  readonly checkpoints?: CheckpointStore;
  readonly now?: () => number;
  /**
   * Check and parse long backlogs on a second thread (default true; only with a log that has `readBytes`); false
   * applies everything on this thread.
   */
  readonly decoderThread?: boolean;
  /** Entities copied per step of a checkpoint, between which the event loop is free (default CHECKPOINT_STEP). */
  readonly checkpointStep?: number;
}

const READ_BATCH = 5_000;
/** A partition this far behind is applied through the decoder thread; the live tail is applied in place. */
const DECODER_MIN_BACKLOG = 20_000;
/** Bytes of whole records handed to the decoder thread at a time (some 15k stored events). */
const DECODE_BYTES = 2 * 1024 * 1024;
const DECODE_AHEAD = 3;
/**
 * Entities a checkpoint copies per step, the event loop free between steps: ~0.1–0.25 ms at the serve benchmark's
 * scale (20 events each). Short, because a client on few connections gets one answer per connection between two
 * steps: under the benchmark's 10k GETs/s on 8 connections, steps of 512 entities (~0.5–1 ms) let requests queue
 * up behind their schedule by 0.46–0.65 s (p99 over the phase); 128 kept that p99 at 5–14 ms, and 32 did no
 * better (8–23 ms, same machine and hour).
 */
const CHECKPOINT_STEP = 128;

/** Resolves after the event loop's next turn: what waits (requests, I/O) runs first. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class OnlineProcessor {
  readonly core: Core;
  private readonly plan: Plan;
  private readonly log: Log;
  private readonly now: () => number;
  private readonly checkpointStep: number;
  /** Tables first: a lookup sees the rows that arrived before the events of the same pass. */
  private readonly sources: { name: string; table: boolean }[];
  private readonly positions = new Map<string, number[]>();
  private readonly watermarks = new Map<string, number>();
  private readonly viewStreams = new Map<string, readonly string[]>();
  private chain: Promise<unknown> = Promise.resolve();
  private decoder: StoredEventDecoder | null = null;
  /** Records applied through the decoder thread (rebuilds and long catch-ups). */
  decodedOffThread = 0;
  /** The checkpoint file being written, if any: the next one waits for it. */
  private writing: Promise<void> = Promise.resolve();
  /** The checkpoint whose state is being copied, if any: the next one waits for it to start its own. */
  private copying: Promise<void> = Promise.resolve();
  private pendingRun: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private applied = 0;
  private rebuilding: boolean;
  private restoredFrom: 'checkpoint' | 'log' = 'log';
  private lastCheckpointAt: number | null = null;
  /** `applied` when the checkpoint on disk was taken (0 for one restored), or null when none holds this state. */
  private appliedAtCheckpoint: number | null = null;
  private failure: unknown = null;
  /**
   * Called with the time from an acknowledgement to the application of what it acknowledged (ms): freshness.
   * Acknowledgements are announced by `acknowledged`.
   */
  onApplied: ((stream: string, freshnessMs: number) => void) | null;
  /** Per `stream/partition`: acknowledged ends not applied yet, in order, with their acknowledgement times. */
  private readonly acks = new Map<string, { end: number; at: number }[]>();

  private constructor(private readonly options: ProcessorOptions) {
    this.plan = options.plan;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.checkpointStep = options.checkpointStep ?? CHECKPOINT_STEP;
    this.core = new Core(this.plan, { retention: true });
    const streams = [...new Set(Object.values(this.plan.features).map((g) => g.stream))];
    const tables = [
      ...new Set(Object.values(this.plan.features).flatMap((g) => g.lookups.map((l) => l.table))),
    ];
    this.sources = [
      ...tables.map((name) => ({ name, table: true })),
      ...streams.map((name) => ({ name, table: false })),
    ];
    this.rebuilding = true;
    this.onApplied = null;
  }

  /** Opens the processor: its checkpoint when it is of this plan, then everything the log holds after it. */
  static async open(options: ProcessorOptions): Promise<OnlineProcessor> {
    const processor = new OnlineProcessor(options);
    const checkpoint = options.checkpoints?.load() ?? null;
    if (checkpoint && checkpoint.planHash === options.plan.hash) {
      processor.core.restore(checkpoint.snapshot);
      for (const [stream, positions] of Object.entries(checkpoint.positions))
        processor.positions.set(stream, [...positions]);
      for (const [stream, time] of Object.entries(checkpoint.watermarks))
        processor.watermarks.set(stream, time);
      processor.restoredFrom = 'checkpoint';
      processor.lastCheckpointAt = checkpoint.createdAt;
      processor.appliedAtCheckpoint = 0;
    }
    return processor;
  }

  /** Applies what the log holds now; resolves when done (the first call ends a rebuild). */
  catchUp(): Promise<void> {
    // Callers that arrive while a run is queued share it: it will read up to the end offsets at its start.
    if (this.pendingRun) return this.pendingRun;
    const run = this.chain.then(async () => {
      this.pendingRun = null;
      await this.applyAvailable();
      if (this.rebuilding) this.core.evictIdle(); // entities the replay left behind the horizon
      this.rebuilding = false;
    });
    this.pendingRun = run;
    this.chain = run.catch((error) => {
      this.failure = error;
    });
    return run;
  }

  /**
   * Tails the log in the background: told by the log each time records become readable when it can tell (the
   * embedded log can), else every `intervalMs`; and at once when notified of new records.
   *
   * Why not a timer always: the 5 ms timer cost ~100 µs of CPU a tick in an idle server (each tick finds every
   * cache and TLB entry it needs cold) and 5–9 µs of CPU per GET under the serve benchmark's 10k GETs/s, a sixth
   * of all a GET costs (docs/serving.md).
   */
  start(intervalMs = 5): void {
    if (this.timer || this.unwatch) return;
    if (this.log.watch) {
      // Only the streams and tables it reads: dead letters and idempotency records are appended to the log too.
      const read = new Set(this.sources.map((source) => source.name));
      this.unwatch = this.log.watch((stream) => {
        if (read.has(stream)) this.notify();
      });
      return;
    }
    this.timer = setInterval(() => void this.catchUp().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  /** New records are readable: apply them now (the log's watch calls this; a polled log waits for the tick). */
  notify(): void {
    void this.catchUp().catch(() => {});
  }

  /**
   * Records of `stream` up to these ends (per partition) were acknowledged now: when they are applied, the delay is
   * reported to onApplied (0 when they already were).
   */
  acknowledged(stream: string, ends: ReadonlyMap<number, number>): void {
    if (!this.onApplied) return;
    const at = this.now();
    const positions = this.positions.get(stream);
    for (const [partition, end] of ends) {
      if ((positions?.[partition] ?? 0) >= end) this.onApplied(stream, 0);
      else {
        const key = `${stream}/${partition}`;
        let queue = this.acks.get(key);
        if (!queue) this.acks.set(key, (queue = []));
        queue.push({ end, at });
      }
    }
  }

  /** Reports the acknowledgements that the position `offset` of a partition now covers. */
  private settle(stream: string, partition: number, offset: number): void {
    const queue = this.acks.get(`${stream}/${partition}`);
    if (!queue?.length || !this.onApplied) return;
    const now = this.now();
    let done = 0;
    while (done < queue.length && queue[done]!.end <= offset) this.onApplied(stream, now - queue[done++]!.at);
    if (done) queue.splice(0, done);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unwatch?.();
    this.unwatch = null;
    await this.chain;
    await this.writing;
    await this.decoder?.close();
    this.decoder = null;
  }

  private async applyAvailable(): Promise<void> {
    const readBytes = this.log.readBytes?.bind(this.log);
    for (const source of this.sources) {
      const partitions = this.log.partitions(source.name);
      let positions = this.positions.get(source.name);
      if (!positions) this.positions.set(source.name, (positions = []));
      for (let p = 0; p < partitions; p++) {
        const end = this.log.endOffset(source.name, p);
        let offset = positions[p] ?? 0;
        if (readBytes && !source.table && end - offset >= DECODER_MIN_BACKLOG) {
          const decoder = this.decoderFor(source.name);
          if (decoder) {
            await this.applyDecoded(decoder, readBytes, source.name, p, offset, end);
            continue;
          }
        }
        while (offset < end) {
          const records = await this.log.read(source.name, p, offset, Math.min(READ_BATCH, end - offset));
          if (!records.length) break;
          for (const record of records) {
            const stored = decodeStoredEvent(record.value);
            if (source.table) this.core.addTableRow(source.name, stored.t, record.sequence, stored.f);
            else {
              this.core.addEvent(source.name, { time: stored.t, seq: record.sequence, fields: stored.f });
              if (!(stored.t <= (this.watermarks.get(source.name) ?? Number.NEGATIVE_INFINITY)))
                this.watermarks.set(source.name, stored.t);
            }
          }
          offset = records[records.length - 1]!.offset + 1;
          this.advance(source.name, p, offset, records.length);
        }
      }
    }
  }

  /** `count` records of a partition were applied, up to `next`: the position moves and waiting acks settle. */
  private advance(stream: string, partition: number, next: number, count: number): void {
    this.positions.get(stream)![partition] = next;
    this.settle(stream, partition, next);
    this.applied += count;
  }

  /** The decoder thread, when `stream`'s events can be applied as columns (started on first use). */
  private decoderFor(stream: string): StoredEventDecoder | null {
    if (this.options.decoderThread === false) return null;
    const fields = this.core.columnFields(stream);
    if (!fields) return null;
    if (!this.decoder) {
      const streams: Record<string, { numeric: string[]; values: string[] }> = {};
      for (const name of Object.keys(this.plan.streams)) {
        const f = this.core.columnFields(name);
        if (f) streams[name] = f;
      }
      this.decoder = new StoredEventDecoder({ streams });
    }
    return this.decoder;
  }

  /**
   * Applies records [offset, end) of a partition with the decoder thread: it checks and parses batch k + 1 (whole
   * records, as the log stores them) while this thread applies batch k, in order, advancing the position batch
   * by batch. The records past `end` that a batch holds are durable too, and applied with it.
   */
  private async applyDecoded(
    decoder: StoredEventDecoder,
    readBytes: NonNullable<Log['readBytes']>,
    stream: string,
    partition: number,
    offset: number,
    end: number,
  ): Promise<void> {
    type Batch = { columns: Promise<DecodedColumns>; next: number };
    // Batches sent ahead, so that the decoder thread never waits for this one to read the next.
    const ahead: Batch[] = [];
    let reading = offset;
    while (reading < end || ahead.length) {
      while (reading < end && ahead.length < DECODE_AHEAD) {
        const chunk = await readBytes(stream, partition, reading, DECODE_BYTES);
        if (!chunk || chunk.endOffset <= reading) {
          reading = end;
          break;
        }
        const columns = decoder.decode(stream, chunk, reading);
        columns.catch(() => undefined); // awaited in turn below; a failure is not left unhandled meanwhile
        ahead.push({ columns, next: chunk.endOffset });
        reading = chunk.endOffset;
      }
      const batch = ahead.shift();
      if (!batch) break;
      const { times, seqs, numeric, values } = await batch.columns;
      const count = times.length;
      this.core.addDecoded(stream, { count, times, seqs, numeric, values });
      let watermark = this.watermarks.get(stream) ?? Number.NEGATIVE_INFINITY;
      for (let i = 0; i < count; i++) if (times[i]! > watermark) watermark = times[i]!;
      this.watermarks.set(stream, watermark);
      this.advance(stream, partition, batch.next, count);
      this.decodedOffThread += count;
    }
  }

  /**
   * Writes a checkpoint of the state and the positions it reflects; checkpoints are written one at a time. Resolves
   * with the bytes written, or 0 when nothing was applied since the checkpoint on disk was taken (it holds this
   * very state).
   *
   * The state is taken in steps of CHECKPOINT_STEP entities, with the event loop free between them, so that reads
   * go on being answered. Applies wait only for the first steps (`Core.snapshotSteps`), which fix the state and
   * the positions together; then records are applied again while the copy goes on, each entity copied before it
   * changes. The file is written off the event loop.
   *
   * Why: in one piece the copy and its encoding held the event loop for 3.9–5.6 s at the serve benchmark's 1M
   * customers and 20M events, and `tributary serve` checkpoints every minute; in steps with applies waiting for
   * the whole copy, records were applied 1.2–1.4 s late during each checkpoint (measured).
   */
  checkpoint(): Promise<number> {
    const store = this.options.checkpoints;
    if (!store) return Promise.resolve(0);
    const previousCopy = this.copying;
    const previousWrite = this.writing;
    // In the order of calls among runs: the state is the one after the runs asked for before this call.
    const taken = this.chain.then(async () => {
      await previousCopy; // one snapshot at a time
      if (this.appliedAtCheckpoint === this.applied) return null;
      const createdAt = this.now();
      const applied = this.applied;
      const positions = Object.fromEntries([...this.positions].map(([source, ends]) => [source, [...ends]]));
      const watermarks = Object.fromEntries(this.watermarks);
      // What idle entities hold beyond retention need not be written: each evicts it as it is copied.
      const steps = this.core.snapshotSteps(this.checkpointStep, true);
      let step = steps.next();
      while (!step.done && step.value) {
        await nextTurn();
        step = steps.next();
      }
      return { createdAt, applied, positions, watermarks, steps, step };
    });
    this.chain = taken.then(
      () => undefined,
      (error) => {
        this.failure = error;
      },
    );
    // The copy goes on while records are applied: each entity is copied before it changes.
    const copied = taken.then(async (checkpoint) => {
      if (checkpoint === null) return null;
      let { step } = checkpoint;
      while (!step.done) {
        await nextTurn();
        step = checkpoint.steps.next();
      }
      return { ...checkpoint, snapshot: step.value };
    });
    this.copying = copied.then(
      () => undefined,
      () => undefined,
    );
    const written = Promise.all([copied, previousWrite]).then(async ([checkpoint]) => {
      if (checkpoint === null) return 0;
      const { createdAt, applied, positions, watermarks, snapshot } = checkpoint;
      const encoded = store.encode({ planHash: this.plan.hash, positions, snapshot, watermarks, createdAt });
      await store.write(encoded);
      this.lastCheckpointAt = createdAt;
      this.appliedAtCheckpoint = applied;
      return encoded.byteLength;
    });
    this.writing = written.then(
      () => undefined,
      () => undefined,
    );
    return written;
  }

  /** The greatest event time applied among the streams a view reads (-Infinity when none). */
  watermark(view: string): number {
    let w = Number.NEGATIVE_INFINITY;
    const streams = this.streamsOf(view);
    for (let i = 0; i < streams.length; i++) w = Math.max(w, this.watermarks.get(streams[i]!) ?? w);
    return w;
  }

  /** The streams a view reads (computed once per view: reads ask on every request). */
  streamsOf(view: string): readonly string[] {
    let streams = this.viewStreams.get(view);
    if (!streams) {
      const plan = this.plan.views[view];
      streams = plan ? [...new Set(plan.features.map((f) => this.plan.features[f.group]!.stream))] : [];
      this.viewStreams.set(view, streams);
    }
    return streams;
  }

  /**
   * A view's vector for entity keys as of `at`. Refused while rebuilding, and for an `at` before the view's
   * online horizon (W − h: the offline engine answers those).
   */
  read(
    view: string,
    keys: Readonly<Record<string, string>>,
    at: number,
    request?: Readonly<Record<string, unknown>>,
  ): Vector {
    if (this.failure) throw this.failure;
    const engine = this.core.view(view); // unknown view: UnknownNameError
    if (this.rebuilding)
      throw new RebuildingError(
        `the state is being rebuilt from the log (${this.status().behind.toLocaleString('en-US')} records to go); retry shortly`,
      );
    const w = this.watermark(view);
    const horizon = engine.view.horizonMs;
    if (at < w - horizon)
      throw new HorizonError(
        `at ${new Date(at).toISOString()} is before the online horizon of view \`${view}\` (${new Date(w - horizon).toISOString()}: the latest event time minus ${horizon / 3_600_000} h); use \`tributary backfill\` for older times`,
      );
    return this.core.read(view, keys, at, request);
  }

  status(): ProcessorStatus {
    let behind = 0;
    for (const source of this.sources) {
      const positions = this.positions.get(source.name) ?? [];
      for (let p = 0; p < this.log.partitions(source.name); p++)
        behind += this.log.endOffset(source.name, p) - (positions[p] ?? 0);
    }
    return {
      planHash: this.plan.hash,
      rebuilding: this.rebuilding,
      applied: this.applied,
      behind,
      restoredFrom: this.restoredFrom,
      lastCheckpointAt: this.lastCheckpointAt,
    };
  }
}
