import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalLength, putDecimal } from '../../src/ingest/decimal.js';

function written(value: number): { text: string; end: number; length: number } {
  const out = new Uint8Array(40).fill(0x2a); // '*': a digit left unwritten shows
  const end = putDecimal(out, 3, value);
  return { text: Buffer.from(out).toString('latin1', 3, end), end, length: decimalLength(value) };
}

describe('decimal integers', () => {
  const cases = fc.oneof(
    fc.maxSafeInteger(),
    fc.integer(),
    // Near the powers of ten and the split at 10^8, where a digit count or the padding goes wrong first.
    fc
      .tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: -2, max: 2 }), fc.boolean())
      .map(([k, d, negative]) => (negative ? -1 : 1) * Math.max(0, 10 ** k + d)),
    fc.double(),
  );

  it('writes what String(value) gives, and says its length', () => {
    fc.assert(
      fc.property(cases, (value) => {
        const { text, end, length } = written(value);
        expect(text).toBe(String(value));
        expect(end).toBe(3 + text.length);
        expect(length).toBe(text.length);
      }),
      { numRuns: 20_000 },
    );
  });

  it('pads the low half with zeros', () => {
    expect(written(1_700_000_000_005).text).toBe('1700000000005');
    expect(written(100_000_000).text).toBe('100000000');
    expect(written(-Number.MAX_SAFE_INTEGER).text).toBe('-9007199254740991');
    expect(written(0).text).toBe('0');
  });
});
