import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseTime } from '../../src/contracts/time.js';
import { parseAt } from '../../src/serving/read-routes.js';

/** parseAt as first written, without the fast path for plain digits: the reference it must agree with. */
function reference(value: unknown, now: number): number | string {
  if (value === undefined || value === null || value === '') return now;
  const raw = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  const parsed = normaliseTime(raw, 'at');
  return typeof parsed === 'number' ? parsed : parsed.detail;
}

const outcome = (value: unknown, now: number): number | string => {
  try {
    return parseAt(value, now);
  } catch (error) {
    return (error as Error).message;
  }
};

describe('parseAt', () => {
  it('reads every string as the general parser does: digits of any length, signs, spaces, ISO, junk', () => {
    const digits = fc.stringMatching(/^[0-9]{1,25}$/);
    const value = fc.oneof(
      digits,
      digits.map((d) => `-${d}`),
      digits.map((d) => ` ${d} `),
      fc.constantFrom('2026-01-02T23:30:00+00:00', '2026-01-02T23:30:00', 'yesterday', '1e3', '0x10', '١٢٣'),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(value, (v) => {
        expect(outcome(v, 42)).toEqual(reference(v, 42));
      }),
      { numRuns: 2000 },
    );
  });

  it('takes 15 digits exactly and leaves longer ones to the general parser', () => {
    expect(parseAt('999999999999999', 0)).toBe(999_999_999_999_999);
    expect(parseAt('0001795556238169', 0)).toBe(1_795_556_238_169);
    expect(parseAt('', 7)).toBe(7);
    // Summed digit by digit, this one would round differently from Number(): beyond 2^53 it must not be.
    expect(parseAt('156389042215060857', 0)).toBe(Number('156389042215060857'));
  });
});
