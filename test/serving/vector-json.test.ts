import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAnswerJson } from '../../src/serving/vector-json.js';

const identifier = fc.stringMatching(/^[A-Za-z_$][\w$]{0,12}$/).filter((name) => name !== '__proto__');
const value = fc.oneof(
  fc.double(),
  // fc.double() gives these in well under 1 run in 100; JSON writes the first three as null and -0 as 0.
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
  fc.integer(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }), // lone surrogates, control characters
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.double(), { maxLength: 3 }),
  fc.record({ lat: fc.double(), lon: fc.double() }),
);

describe('a view answer written by its compiled writer', () => {
  it('is the text JSON.stringify gives for the same answer', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.oneof(fc.integer(), fc.maxSafeInteger()),
        fc.uniqueArray(fc.tuple(identifier, value), { selector: ([name]) => name, maxLength: 25 }),
        (view, entity, key, at, entries) => {
          const features = Object.fromEntries(entries);
          const write = compileAnswerJson(
            view,
            entity,
            entries.map(([name]) => name),
          );
          expect(write).not.toBeNull();
          expect(write!(key, at, features)).toBe(
            JSON.stringify({ view, keys: { [entity]: key }, at, features }),
          );
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('gives way to JSON.stringify for a missing value and for names that are not identifiers', () => {
    const write = compileAnswerJson('v', 'customer', ['a', 'b'])!;
    expect(write('c1', 1, { a: 1 })).toBeNull();
    expect(write('c1', 1, { a: 1, b: undefined })).toBeNull();
    expect(write('c1', 1, { a: 1, b: 2 })).toBe(
      '{"view":"v","keys":{"customer":"c1"},"at":1,"features":{"a":1,"b":2}}',
    );
    expect(compileAnswerJson('v', 'customer', ['a', '1'])).toBeNull();
    expect(compileAnswerJson('v', 'customer', ['a', 'b c'])).toBeNull();
    expect(compileAnswerJson('v', 'customer', ['__proto__'])).toBeNull();
  });
});
