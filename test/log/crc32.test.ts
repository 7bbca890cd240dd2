import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32Range } from '../../src/log/embedded/crc32.js';

describe('crc32Range', () => {
  it("equals zlib's CRC-32 of the range, on both sides of the table loop's limit", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 700 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const start = bytes.length ? a % (bytes.length + 1) : 0;
        const end = start + (bytes.length - start ? b % (bytes.length - start + 1) : 0);
        expect(crc32Range(bytes, start, end)).toBe(crc32(bytes.subarray(start, end)));
      }),
      { numRuns: 5000 },
    );
  });

  it('is the standard check value on "123456789"', () => {
    expect(crc32Range(Buffer.from('--123456789--'), 2, 11)).toBe(0xcbf43926);
  });
});
