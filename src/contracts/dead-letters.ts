/**
 * Dead letters: every refused event, kept with its reason, detail, raw payload and the schema version it was
 * checked against, in a log stream of its own (`__dlq__<stream>`; `__dlq___unknown` for events sent to an
 * unknown stream). Listable by reason with a cursor, counted per reason, and replayable once each.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurably } from '../log/embedded/durable-file.js';
import type { EmbeddedLog } from '../log/embedded/embedded-log.js';
import type { Rejection, RejectionReason } from './rejection.js';

export const UNKNOWN_STREAM = '_unknown';
export const deadLetterStream = (stream: string) => `__dlq__${stream}`;

export interface DeadLetterInput {
  readonly rejection: Rejection;
  readonly raw: string;
  readonly schemaVersion: string | null;
  readonly arrivalTime: number;
  /** 1-based line of a batch or file it came in, when known. */
  readonly line?: number;
  /** The file (or other source) it came from, when known. */
  readonly source?: string;
}

export interface DeadLetter extends DeadLetterInput {
  /** Position in the dead-letter log: the cursor and the replay identity. */
  readonly offset: number;
  readonly stream: string;
}

export interface DeadLetterPage {
  readonly letters: DeadLetter[];
  /** Pass back to continue; null at the end. */
  readonly nextCursor: number | null;
}

export class DeadLetterStore {
  private readonly counts = new Map<string, Map<RejectionReason, number>>();

  constructor(private readonly log: EmbeddedLog) {}

  /** Stores refused events durably (resolves after fsync). */
  async add(stream: string, letters: readonly DeadLetterInput[]): Promise<void> {
    if (!letters.length) return;
    const counts = await this.countsOf(stream); // loaded before this batch is stored, so it counts once
    await this.log.ensureStream(deadLetterStream(stream), 1);
    await this.log.append(
      deadLetterStream(stream),
      letters.map((letter) => ({
        key: stream,
        arrivalTime: letter.arrivalTime,
        value: Buffer.from(
          JSON.stringify({
            reason: letter.rejection.reason,
            detail: letter.rejection.detail,
            raw: letter.raw,
            schemaVersion: letter.schemaVersion,
            line: letter.line,
            source: letter.source,
          }),
        ),
      })),
    );
    for (const letter of letters)
      counts.set(letter.rejection.reason, (counts.get(letter.rejection.reason) ?? 0) + 1);
  }

  /** Dead letters of a stream from `cursor` on, optionally of one reason. */
  async list(
    stream: string,
    options: { reason?: string; cursor?: number; limit?: number } = {},
  ): Promise<DeadLetterPage> {
    const limit = options.limit ?? 100;
    const letters: DeadLetter[] = [];
    let offset = options.cursor ?? 0;
    const end = this.log.endOffset(deadLetterStream(stream), 0);
    while (letters.length < limit && offset < end) {
      const records = await this.log.read(deadLetterStream(stream), 0, offset, 1_000);
      if (!records.length) break;
      for (const record of records) {
        offset = record.offset + 1;
        const stored = JSON.parse(Buffer.from(record.value).toString('utf8')) as {
          reason: RejectionReason;
          detail: string;
          raw: string;
          schemaVersion: string | null;
          line?: number;
          source?: string;
        };
        if (options.reason && stored.reason !== options.reason) continue;
        letters.push({
          offset: record.offset,
          stream,
          rejection: { reason: stored.reason, detail: stored.detail },
          raw: stored.raw,
          schemaVersion: stored.schemaVersion,
          arrivalTime: record.arrivalTime,
          ...(stored.line !== undefined ? { line: stored.line } : {}),
          ...(stored.source !== undefined ? { source: stored.source } : {}),
        });
        if (letters.length === limit) break;
      }
    }
    return { letters, nextCursor: offset < end ? offset : null };
  }

  /** Dead letters per reason (read from the store the first time). */
  async countsOf(stream: string): Promise<Map<RejectionReason, number>> {
    let counts = this.counts.get(stream);
    if (!counts) {
      counts = new Map();
      this.counts.set(stream, counts);
      for (let cursor: number | null = 0; cursor !== null; ) {
        const page: DeadLetterPage = await this.list(stream, { cursor, limit: 10_000 });
        for (const letter of page.letters)
          counts.set(letter.rejection.reason, (counts.get(letter.rejection.reason) ?? 0) + 1);
        cursor = page.nextCursor;
      }
    }
    return counts;
  }

  private replayedPath(stream: string): string {
    return join(this.log.root, deadLetterStream(stream), 'replayed.json');
  }

  /** Offsets already replayed: a dead letter is replayed once. */
  replayed(stream: string): Set<number> {
    const path = this.replayedPath(stream);
    return new Set(existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as number[]) : []);
  }

  markReplayed(stream: string, offsets: Iterable<number>): void {
    const all = this.replayed(stream);
    for (const offset of offsets) all.add(offset);
    writeDurably(this.replayedPath(stream), JSON.stringify([...all].sort((a, b) => a - b)));
  }
}
