/** Agreement between an engine value and the reference, as semantics.md defines it. */
import type { AggregationFn } from '../../src/definitions/plan.js';
import { RELATIVE_ACCURACY } from '../../src/engine/core/operators/ddsketch.js';
import { RELATIVE_STANDARD_ERROR } from '../../src/engine/core/operators/hyperloglog.js';
import type { ReferenceValue } from './reference.js';

function numbersAgree(a: number, b: number, scale: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), scale);
}

function valuesAgree(actual: unknown, expected: unknown, scale: number): boolean {
  if (typeof actual === 'number' && typeof expected === 'number')
    return numbersAgree(actual, expected, scale);
  if (Array.isArray(actual) && Array.isArray(expected)) {
    return actual.length === expected.length && actual.every((v, i) => valuesAgree(v, expected[i], scale));
  }
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    const keys = Object.keys(expected as object);
    return (
      keys.length === Object.keys(actual as object).length &&
      keys.every((k) =>
        valuesAgree((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], scale),
      )
    );
  }
  return actual === expected;
}

/** null when they agree, else a description of the disagreement. */
export function disagreement(
  fn: AggregationFn | 'derived',
  actual: unknown,
  expected: ReferenceValue,
): string | null {
  const { value, scale } = expected;
  let ok: boolean;
  if (fn === 'approxCountDistinct' && typeof actual === 'number' && typeof value === 'number') {
    ok = Math.abs(actual - value) <= 4 * RELATIVE_STANDARD_ERROR * value + 1;
  } else if (fn === 'approxQuantile' && typeof actual === 'number' && typeof value === 'number') {
    ok = Math.abs(actual - value) <= RELATIVE_ACCURACY * Math.abs(value) + 1e-9 * Math.max(1, scale);
  } else if (fn === 'derived' && typeof actual === 'number' && typeof value === 'number') {
    ok = Math.abs(actual - value) <= 1e-6 * Math.max(1, Math.abs(actual), Math.abs(value));
  } else ok = valuesAgree(actual, value, scale);
  return ok
    ? null
    : `engine ${JSON.stringify(actual)} vs reference ${JSON.stringify(value)} (scale ${scale})`;
}
