/**
 * DDSketch (Masson, Rim, Lee 2019): log-spaced buckets with relative accuracy ALPHA. Every quantile it returns
 * is within ALPHA × |exact| of the exact nearest-rank quantile (the ceil(q·n)-th smallest value).
 * Add, remove (decrement a bucket: invertible), merge. Buckets live in a Map keyed by index; negative
 * values mirror positive ones; zeros (|x| below MIN_POSITIVE) have their own count.
 */
export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
const MIN_POSITIVE = 1e-9;

const indexOf = (magnitude: number): number => Math.ceil(Math.log(magnitude) / LOG_GAMMA);
/** Representative of bucket i: the value with equal relative distance to both bucket bounds. */
const bucketValue = (index: number): number => (2 * GAMMA ** index) / (GAMMA + 1);

export class DDSketch {
  private readonly positive = new Map<number, number>();
  private readonly negative = new Map<number, number>();
  private zeros = 0;
  count = 0;

  add(x: number, weight = 1): void {
    if (Number.isNaN(x)) return; // null
    this.count += weight;
    if (x > MIN_POSITIVE) bump(this.positive, indexOf(x), weight);
    else if (x < -MIN_POSITIVE) bump(this.negative, indexOf(-x), weight);
    else this.zeros += weight;
  }

  addBatch(values: Float64Array, from: number, to: number): void {
    for (let i = from; i < to; i++) this.add(values[i]!);
  }

  remove(x: number): void {
    this.add(x, -1);
  }

  merge(other: DDSketch): void {
    for (const [i, c] of other.positive) bump(this.positive, i, c);
    for (const [i, c] of other.negative) bump(this.negative, i, c);
    this.zeros += other.zeros;
    this.count += other.count;
  }

  clear(): void {
    this.positive.clear();
    this.negative.clear();
    this.zeros = 0;
    this.count = 0;
  }

  /** The nearest-rank q-quantile (0 < q ≤ 1) within the relative accuracy; null when empty. */
  quantile(q: number): number | null {
    if (this.count <= 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    const negatives = [...this.negative.keys()].sort((a, b) => b - a); // most negative first
    for (const i of negatives) {
      seen += this.negative.get(i)!;
      if (seen >= rank) return -bucketValue(i);
    }
    seen += this.zeros;
    if (seen >= rank) return 0;
    const positives = [...this.positive.keys()].sort((a, b) => a - b);
    for (const i of positives) {
      seen += this.positive.get(i)!;
      if (seen >= rank) return bucketValue(i);
    }
    return bucketValue(positives[positives.length - 1]!);
  }
}

function bump(buckets: Map<number, number>, index: number, weight: number): void {
  const next = (buckets.get(index) ?? 0) + weight;
  if (next === 0) buckets.delete(index);
  else buckets.set(index, next);
}
