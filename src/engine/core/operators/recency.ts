/**
 * first / last / firstK / lastK as mergeable states, ordered by (event time, arrival sequence): of two events
 * with the same time, the later arrival is the more recent (semantics.md). Callers pass only events whose
 * fields are all non-null. `last` is `LastK` with k = 1; `first` is `FirstK` with k = 1.
 */
export interface Stamped<V> {
  readonly time: number;
  readonly seq: number;
  readonly value: V;
}

const newer = (a: Stamped<unknown>, b: Stamped<unknown>): boolean =>
  a.time > b.time || (a.time === b.time && a.seq > b.seq);

abstract class Recency<V> {
  protected kept: Stamped<V>[] = [];
  constructor(readonly k: number) {}
  /** True when `a` should rank before `b` in the result. */
  protected abstract before(a: Stamped<V>, b: Stamped<V>): boolean;

  add(time: number, seq: number, value: V): void {
    const item = { time, seq, value };
    const kept = this.kept;
    if (kept.length === this.k && !this.before(item, kept[kept.length - 1]!)) return;
    let i = kept.length;
    while (i > 0 && this.before(item, kept[i - 1]!)) i--;
    kept.splice(i, 0, item);
    if (kept.length > this.k) kept.pop();
  }

  addBatch(times: Float64Array, seqs: Float64Array, values: readonly V[], from: number, to: number): void {
    for (let i = from; i < to; i++) this.add(times[i]!, seqs[i]!, values[i]!);
  }

  merge(other: Recency<V>): void {
    for (const item of other.kept) this.add(item.time, item.seq, item.value);
  }

  /** Values in result order (most recent first for LastK, least recent first for FirstK). */
  result(): V[] {
    return this.kept.map((item) => item.value);
  }

  clear(): void {
    this.kept = [];
  }
}

export class LastK<V> extends Recency<V> {
  protected before(a: Stamped<V>, b: Stamped<V>): boolean {
    return newer(a, b);
  }
}

export class FirstK<V> extends Recency<V> {
  protected before(a: Stamped<V>, b: Stamped<V>): boolean {
    return newer(b, a);
  }
}
