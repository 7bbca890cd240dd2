/**
 * De-duplication by event id (semantics.md): the first valid copy to arrive counts; later copies within the
 * horizon (default 30 days of arrival time) are duplicates. Pure memory: persistence is the intake's job.
 *
 * Ids are spread over many small maps rather than one: a map doubles its table as it grows, synchronously, and
 * for millions of ids one doubling held the event loop for tens of milliseconds (every acknowledgement waiting
 * behind it). Ids older than the horizon are forgotten as ingest goes, a shard at a time.
 */
export const DEFAULT_DEDUPE_HORIZON_MS = 30 * 86_400_000;

const SHARDS = 64;
/** One shard is swept for expired ids every this many accepted ids. */
const SWEEP_EVERY = 1024;

export class Deduplicator {
  /** id → arrival time of its first copy; each shard in arrival order, so a sweep stops at its first live id. */
  private readonly shards: Map<string, number>[] = Array.from({ length: SHARDS }, () => new Map());
  private acceptedCount = 0;
  private nextSweep = 0;
  duplicates = 0;

  constructor(private readonly horizonMs = DEFAULT_DEDUPE_HORIZON_MS) {}

  /** True when this is the first arrival of `id` within the horizon; false (and counted) for a duplicate. */
  accept(id: string, arrivalTime: number): boolean {
    const shard = this.shards[shardOf(id)]!;
    const seen = shard.get(id);
    if (seen !== undefined) {
      if (arrivalTime - seen <= this.horizonMs) {
        this.duplicates++;
        return false;
      }
      shard.delete(id); // arrives again after the horizon: re-inserted last, keeping the arrival order
    }
    shard.set(id, arrivalTime);
    if (++this.acceptedCount % SWEEP_EVERY === 0)
      this.sweep(this.shards[this.nextSweep++ % SHARDS]!, arrivalTime);
    return true;
  }

  /** Forgets one id (its event was not stored after all, so it has not arrived). */
  forget(id: string): void {
    this.shards[shardOf(id)]!.delete(id);
  }

  /** Forgets every id first seen before `arrivalTime - horizon`. */
  expire(arrivalTime: number): void {
    for (const shard of this.shards) this.sweep(shard, arrivalTime);
  }

  /** Ids remembered. */
  get size(): number {
    let size = 0;
    for (const shard of this.shards) size += shard.size;
    return size;
  }

  private sweep(shard: Map<string, number>, arrivalTime: number): void {
    for (const [id, seen] of shard) {
      if (arrivalTime - seen <= this.horizonMs) break;
      shard.delete(id);
    }
  }
}

/** FNV-1a over the id's UTF-16 units, folded to a shard. */
function shardOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 16)) & (SHARDS - 1);
}
