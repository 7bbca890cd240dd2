/**
 * Loads event files through the intake, one batch at a time, with the next batch checked while the previous
 * one waits for its fsync (the disk and the CPU work side by side; at most two batches are in flight, so memory
 * stays bounded). Results come back in file order.
 */
import type { FieldPlan } from '../definitions/plan.js';
import { type ItemBatch, readEventFile } from './files.js';
import type { IngestResult, Intake } from './intake.js';

export interface FileBatchDone {
  readonly batch: ItemBatch;
  readonly result: IngestResult;
}

export interface FileIngestOptions {
  readonly batchSize?: number;
  /** Kept with dead letters (the file name). */
  readonly source?: string;
  /** Called once per batch, in file order, after the batch is durable. */
  readonly onBatch?: (done: FileBatchDone) => void;
}

/**
 * Ingests one file into `stream`. Rejects with the first storage error; batches acknowledged before it stay
 * stored, and a rerun of the same file finds them as duplicates (events with ids).
 */
export async function ingestFile(
  intake: Intake,
  stream: string,
  path: string,
  fields: readonly FieldPlan[],
  options: FileIngestOptions = {},
): Promise<void> {
  let previous: Promise<void> | null = null;
  for await (const batch of readEventFile(path, fields, options.batchSize)) {
    // `ingest` checks the whole batch before its first await: this overlaps the check with the last fsync.
    const storing = intake.ingest(stream, batch.items, {
      lines: batch.lines,
      ...(options.source ? { source: options.source } : {}),
    });
    const before = previous;
    const done = (async () => {
      const result = await storing;
      await before;
      options.onBatch?.({ batch, result });
    })();
    // A failure is reported once, by whoever awaits `done`; this one only keeps it from being unhandled.
    done.catch(() => undefined);
    if (previous) await previous;
    previous = done;
  }
  await previous;
}
