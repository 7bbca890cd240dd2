/**
 * The index of the last element of `sorted` whose key is at most `value`, or -1. The keys must ascend: offsets in
 * a segment's sparse index, byte positions, the first offsets of the tail's batches.
 */
export function lastAtMost<T = number>(
  sorted: readonly T[],
  value: number,
  key: (item: T) => number = (item) => item as number,
): number {
  let low = 0;
  let high = sorted.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (key(sorted[middle]!) <= value) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}
