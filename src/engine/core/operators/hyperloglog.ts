/**
 * HyperLogLog (Flajolet et al. 2007) with linear counting for small cardinalities.
 * PRECISION p = 10: 1024 one-byte registers; relative standard error 1.04 / sqrt(1024) ≈ 3.25%
 * (docs/aggregations.md). Add and merge; not invertible (a window that slides uses SlidingHyperLogLog).
 */
export const PRECISION = 10;
export const REGISTERS = 1 << PRECISION;
export const RELATIVE_STANDARD_ERROR = 1.04 / Math.sqrt(REGISTERS);
const ALPHA = 0.7213 / (1 + 1.079 / REGISTERS);
const POW2_NEG = Float64Array.from({ length: 64 }, (_, r) => 2 ** -r);
const IS_ZERO = Int32Array.from({ length: 64 }, (_, r) => (r === 0 ? 1 : 0));

/** Register index of a 32-bit hash. */
export const registerOf = (hash: number): number => hash >>> (32 - PRECISION);
/** Rank: position of the first 1-bit in the remaining bits (1-based; all zeros → 32 - p + 1). */
export function rankOf(hash: number): number {
  const rest = (hash << PRECISION) >>> 0;
  return rest === 0 ? 32 - PRECISION + 1 : Math.clz32(rest) + 1;
}

export class HyperLogLog {
  readonly registers = new Uint8Array(REGISTERS);

  addHash(hash: number): void {
    const r = registerOf(hash);
    const rank = rankOf(hash);
    if (rank > this.registers[r]!) this.registers[r] = rank;
  }

  /** Adds a batch of hashes (a column slice). */
  addBatch(hashes: Uint32Array, from: number, to: number): void {
    for (let i = from; i < to; i++) this.addHash(hashes[i]!);
  }

  merge(other: HyperLogLog): void {
    const a = this.registers;
    const b = other.registers;
    for (let i = 0; i < REGISTERS; i++) if (b[i]! > a[i]!) a[i] = b[i]!;
  }

  clear(): void {
    this.registers.fill(0);
  }

  estimate(): number {
    return estimateFromRegisters(this.registers);
  }
}

/**
 * The HLL estimate of a register array, with linear counting below 2.5 m (as in the original paper). Two sums
 * and a table for the zeros, not a branch: ~0.7 µs instead of ~1 µs over 1,024 registers. The sums are exact
 * in any order (multiples of 2^-23, at most 1,024), so the estimate does not depend on how they are split.
 */
export function estimateFromRegisters(registers: ArrayLike<number>): number {
  let even = 0;
  let odd = 0;
  let zeros = 0;
  for (let i = 0; i < REGISTERS; i += 2) {
    const a = registers[i]!;
    const b = registers[i + 1]!;
    even += POW2_NEG[a]!;
    odd += POW2_NEG[b]!;
    zeros += IS_ZERO[a]! + IS_ZERO[b]!;
  }
  const harmonic = even + odd;
  const raw = (ALPHA * REGISTERS * REGISTERS) / harmonic;
  if (raw <= 2.5 * REGISTERS && zeros > 0) return Math.round(REGISTERS * Math.log(REGISTERS / zeros));
  return Math.round(raw);
}
