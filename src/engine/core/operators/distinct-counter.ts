/** Exact distinct count: a multiset of value ids. Add, remove (invertible), merge. */
export class DistinctCounter {
  private readonly counts = new Map<number, number>();

  add(id: number): void {
    if (id < 0) return; // null
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  addBatch(ids: Int32Array, from: number, to: number): void {
    for (let i = from; i < to; i++) this.add(ids[i]!);
  }

  remove(id: number): void {
    if (id < 0) return;
    const next = (this.counts.get(id) ?? 0) - 1;
    if (next <= 0) this.counts.delete(id);
    else this.counts.set(id, next);
  }

  merge(other: DistinctCounter): void {
    for (const [id, c] of other.counts) this.counts.set(id, (this.counts.get(id) ?? 0) + c);
  }

  clear(): void {
    this.counts.clear();
  }

  result(): number {
    return this.counts.size;
  }
}
