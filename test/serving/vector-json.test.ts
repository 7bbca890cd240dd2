import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAnswerJson } from '../../src/serving/vector-json.js';

/** A list with a hole at 1, which JSON writes as null. */
const holed: unknown[] = [];
holed[0] = 1;
holed[2] = 3;

const identifier = fc.stringMatching(/^[A-Za-z_$][\w$]{0,12}$/).filter((name) => name !== '__proto__');
const value = fc.oneof(
  fc.double(),
  // fc.double() gives these in well under 1 run in 100; JSON writes the first three as null and -0 as 0.
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    2 ** 53,
    1e21,
    -1e21,
    10,
    100,
    1e15,
    999,
    -1000,
  ),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary-ascii' }), // quotes, backslashes, control characters: escaped
  fc.string({ unit: 'grapheme-ascii' }),
  fc.string({ unit: 'binary' }), // lone surrogates, control characters
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.double(), { maxLength: 3 }),
  // lastK's lists, written element by element: undefined and holes are null in JSON, nested lists too.
  fc.array(
    fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.constant(undefined),
      fc.string({ unit: 'binary' }),
      fc.array(fc.maxSafeInteger(), { maxLength: 2 }),
    ),
    { maxLength: 5 },
  ),
  fc.constant(holed),
  fc.record({ lat: fc.double(), lon: fc.double() }),
);

/** The writer's text for the answer, twice (the second over the first one's bytes), against JSON.stringify's. */
function expectStringifiedText(
  view: string,
  entity: string,
  key: string,
  at: number,
  entries: readonly (readonly [string, unknown])[],
): void {
  const features = Object.fromEntries(entries);
  const write = compileAnswerJson(
    view,
    entity,
    entries.map(([name]) => name),
  );
  expect(write).not.toBeNull();
  const expected = JSON.stringify({ view, keys: { [entity]: key }, at, features });
  expect(write!(key, at, features)).toBe(expected);
  expect(write!(key, at, features)).toBe(expected);
}

const entriesArbitrary = fc.uniqueArray(fc.tuple(identifier, value), {
  selector: ([name]) => name,
  maxLength: 25,
});

describe('a view answer written by its compiled writer', () => {
  it('is the text JSON.stringify gives for the same answer', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.oneof(fc.integer(), fc.maxSafeInteger()),
        entriesArbitrary,
        expectStringifiedText,
      ),
      { numRuns: 3000 },
    );
  });

  it('is that text too when everything is ASCII (written as bytes, not by concatenation)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary-ascii' }),
        fc.string({ unit: 'binary-ascii' }),
        fc.oneof(fc.string({ unit: 'binary-ascii' }), fc.stringMatching(/^c\d{1,7}$/)),
        fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double()),
        entriesArbitrary,
        expectStringifiedText,
      ),
      { numRuns: 3000 },
    );
  });

  it('writes answers longer than its first buffer, and shorter ones after them', () => {
    // Long names too: the buffer then also grows while a constant part is written.
    const names = Array.from({ length: 300 }, (_, i) => `feature_${i}${'_'.repeat(i % 7 === 0 ? 2_000 : 0)}`);
    const write = compileAnswerJson('v', 'customer', names)!;
    const long = Object.fromEntries(
      names.map((name, i) => [name, i % 2 ? `value-${i}-`.repeat(20) : -i * 1e9]),
    );
    const short = Object.fromEntries(names.map((name, i) => [name, i]));
    for (const [key, features] of [
      ['c1', long],
      ['k'.repeat(5_000), short],
      ['c2', short],
    ] as const)
      expect(write(key, 1, features)).toBe(
        JSON.stringify({ view: 'v', keys: { customer: key }, at: 1, features }),
      );
  });

  it('writes a list across the end of its first buffer, wherever a digit, a comma or a bracket falls on it', () => {
    const list = Array.from({ length: 800 }, (_, i) => i % 10); // 1,600 bytes: one-byte writes cross 1,024
    for (const key of ['c1', 'c12', 'c1'.repeat(490)]) {
      const write = compileAnswerJson('v', 'customer', ['list'])!; // a new writer: its first buffer
      expect(write(key, 1, { list })).toBe(
        JSON.stringify({ view: 'v', keys: { customer: key }, at: 1, features: { list } }),
      );
    }
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
