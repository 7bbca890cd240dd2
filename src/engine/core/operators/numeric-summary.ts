/**
 * The numeric summary operator: count of non-null values, compensated sum, mean and M2 (Welford/Chan), min,
 * max. One state answers sum, mean, min, max, variance and stddev, and it is what the tiles hold.
 * A state is WIDTH doubles inside a Float64Array, so tiles are plain typed memory.
 *
 * Layout at `o`: [n, sum, sumCompensation, mean, m2, min, max]. Null (NaN) inputs are skipped.
 */
export const WIDTH = 7;
const N = 0;
const SUM = 1;
const COMP = 2;
const MEAN = 3;
const M2 = 4;
const MIN = 5;
const MAX = 6;

export function init(s: Float64Array, o: number): void {
  s[o + N] = 0;
  s[o + SUM] = 0;
  s[o + COMP] = 0;
  s[o + MEAN] = 0;
  s[o + M2] = 0;
  s[o + MIN] = Number.POSITIVE_INFINITY;
  s[o + MAX] = Number.NEGATIVE_INFINITY;
}

/** Neumaier's compensated addition of x into (sum, comp): sums that cancel keep their small terms. */
function addToSum(s: Float64Array, o: number, x: number): void {
  const sum = s[o + SUM]!;
  const t = sum + x;
  s[o + COMP]! += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
  s[o + SUM] = t;
}

export function add(s: Float64Array, o: number, x: number): void {
  if (Number.isNaN(x)) return; // null
  const n = s[o + N]! + 1;
  s[o + N] = n;
  addToSum(s, o, x);
  const delta = x - s[o + MEAN]!;
  const mean = s[o + MEAN]! + delta / n;
  s[o + MEAN] = mean;
  s[o + M2]! += delta * (x - mean);
  if (x < s[o + MIN]!) s[o + MIN] = x;
  if (x > s[o + MAX]!) s[o + MAX] = x;
}

/**
 * Adds values[from..to) (a column slice): add() for each, with the state in locals rather than read and written
 * back per value (the same operations in the same order, so the same doubles). Reads scan short windows with it:
 * 6.2 against 7.6 ns per value (the division in the running mean is most of what is left).
 */
export function addBatch(s: Float64Array, o: number, values: Float64Array, from: number, to: number): void {
  let n = s[o + N]!;
  let total = s[o + SUM]!;
  let comp = s[o + COMP]!;
  let mean = s[o + MEAN]!;
  let m2 = s[o + M2]!;
  let min = s[o + MIN]!;
  let max = s[o + MAX]!;
  for (let i = from; i < to; i++) {
    const x = values[i]!;
    if (Number.isNaN(x)) continue; // null
    n += 1;
    const t = total + x;
    comp += Math.abs(total) >= Math.abs(x) ? total - t + x : x - t + total;
    total = t;
    const delta = x - mean;
    mean += delta / n;
    m2 += delta * (x - mean);
    if (x < min) min = x;
    if (x > max) max = x;
  }
  s[o + N] = n;
  s[o + SUM] = total;
  s[o + COMP] = comp;
  s[o + MEAN] = mean;
  s[o + M2] = m2;
  s[o + MIN] = min;
  s[o + MAX] = max;
}

/** Removes x (count, sum, mean, M2 are invertible; min/max are not and are left as bounds). */
export function remove(s: Float64Array, o: number, x: number): void {
  if (Number.isNaN(x)) return;
  const n = s[o + N]! - 1;
  if (n <= 0) {
    init(s, o);
    return;
  }
  addToSum(s, o, -x);
  const meanBefore = s[o + MEAN]!;
  const mean = meanBefore - (x - meanBefore) / n;
  s[o + M2] = Math.max(0, s[o + M2]! - (x - meanBefore) * (x - mean));
  s[o + MEAN] = mean;
  s[o + N] = n;
}

/** dst ← dst ∪ src (Chan et al.'s parallel combination of moments). */
export function merge(d: Float64Array, od: number, src: Float64Array, os: number): void {
  const nb = src[os + N]!;
  if (nb === 0) return;
  const na = d[od + N]!;
  if (na === 0) {
    for (let i = 0; i < WIDTH; i++) d[od + i] = src[os + i]!;
    return;
  }
  const n = na + nb;
  const delta = src[os + MEAN]! - d[od + MEAN]!;
  d[od + MEAN] = d[od + MEAN]! + (delta * nb) / n;
  d[od + M2] = d[od + M2]! + src[os + M2]! + ((delta * delta * na) / n) * nb;
  d[od + N] = n;
  addToSum(d, od, src[os + SUM]!);
  d[od + COMP]! += src[os + COMP]!;
  if (src[os + MIN]! < d[od + MIN]!) d[od + MIN] = src[os + MIN]!;
  if (src[os + MAX]! > d[od + MAX]!) d[od + MAX] = src[os + MAX]!;
}

export const count = (s: Float64Array, o: number): number => s[o + N]!;
export const sum = (s: Float64Array, o: number): number => s[o + SUM]! + s[o + COMP]!;
export const mean = (s: Float64Array, o: number): number | null =>
  s[o + N]! > 0 ? sum(s, o) / s[o + N]! : null;
export const min = (s: Float64Array, o: number): number | null => (s[o + N]! > 0 ? s[o + MIN]! : null);
export const max = (s: Float64Array, o: number): number | null => (s[o + N]! > 0 ? s[o + MAX]! : null);
export function variance(s: Float64Array, o: number): number | null {
  const n = s[o + N]!;
  return n > 0 ? Math.max(0, s[o + M2]! / n) : null;
}
export function stddev(s: Float64Array, o: number): number | null {
  const v = variance(s, o);
  return v === null ? null : Math.sqrt(v);
}
