/** Percentiles of benchmark samples, by nearest rank: the value below which a share p (0 to 1) of them lie. */

/** The percentile of samples already in ascending order; 0 when there are none. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** The percentile of samples in any order (sorted in a copy). */
export function percentile(samples: ArrayLike<number>, p: number): number {
  return percentileOfSorted(Float64Array.from(samples).sort(), p);
}
