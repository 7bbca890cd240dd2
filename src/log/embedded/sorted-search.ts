/**
 * The index of the last of the first `length` elements of `sorted` whose key is at most `value`, or -1. The keys
 * must ascend: offsets and byte positions in a segment's sparse index, the first offsets of the tail's batches.
 */
export function lastAtMost<T = number>(
  sorted: ArrayLike<T>,
  value: number,
  length = sorted.length,
  key: (item: T) => number = (item) => item as number,
): number {
  let low = 0;
  let high = length - 1;
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
