/**
 * De-duplication by event id (semantics.md): the first valid copy to arrive counts; later copies within the
 * horizon (default 30 days of arrival time) are duplicates. Pure memory: persistence is the intake's job.
 */
export const DEFAULT_DEDUPE_HORIZON_MS = 30 * 86_400_000;

export class Deduplicator {
  private readonly firstArrival = new Map<string, number>();
  duplicates = 0;

  constructor(private readonly horizonMs = DEFAULT_DEDUPE_HORIZON_MS) {}

  /** True when this is the first arrival of `id` within the horizon; false (and counted) for a duplicate. */
  accept(id: string, arrivalTime: number): boolean {
    const seen = this.firstArrival.get(id);
    if (seen !== undefined && arrivalTime - seen <= this.horizonMs) {
      this.duplicates++;
      return false;
    }
    this.firstArrival.set(id, arrivalTime);
    return true;
  }

  /** Forgets one id (its event was not stored after all, so it has not arrived). */
  forget(id: string): void {
    this.firstArrival.delete(id);
  }

  /** Forgets ids first seen before `arrivalTime - horizon`. */
  expire(arrivalTime: number): void {
    for (const [id, seen] of this.firstArrival)
      if (arrivalTime - seen > this.horizonMs) this.firstArrival.delete(id);
  }
}
