/** The off-heap key index behaves as a Map<string, number>: same values, same size, same order of entries. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ABSENT, KeyIndex, keyFromChars } from '../../src/engine/core/key-index.js';

/** Keys that collide in the table often (many short ones), any UTF-16 (lone surrogates too), and long ones. */
const keyArbitrary = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 1500 }).map((n) => `c${n}`) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 8_000, max: 20_000 }).map((n) => 'k'.repeat(n) + n) },
);

type Step = readonly ['set', string, number] | readonly ['delete', string] | readonly ['get', string];

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constant('set' as const), keyArbitrary, fc.nat()) },
  { weight: 3, arbitrary: fc.tuple(fc.constant('delete' as const), keyArbitrary) },
  { weight: 2, arbitrary: fc.tuple(fc.constant('get' as const), keyArbitrary) },
);

function expectSame(index: KeyIndex, model: Map<string, number>): void {
  expect(index.size).toBe(model.size);
  expect([...index.entries()]).toEqual([...model.entries()]);
  for (const [key, value] of model) expect(index.get(key)).toBe(value);
  const values: number[] = [];
  index.forEachValue((value) => values.push(value));
  expect(values).toEqual([...model.values()]);
  // What a snapshot packs: every live key's code units, in order, in exactly liveChars of room, whatever the
  // ranges of entries it is asked for in.
  const packed = {
    chars: new Uint16Array(index.liveChars),
    lengths: new Int32Array(index.size),
    count: 0,
    charCount: 0,
  };
  for (let from = 0; from < index.entrySpan; from += 7) index.packKeys(packed, from, from + 7);
  expect(packed.charCount).toBe(packed.chars.length);
  expect(packed.count).toBe(model.size);
  expect(keyFromChars(packed.chars, 0, packed.chars.length)).toBe([...model.keys()].join(''));
  expect([...packed.lengths]).toEqual([...model.keys()].map((key) => key.length));
}

describe('the key index', () => {
  it('answers as a Map does through any sequence of sets, deletes and gets', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 1_000, maxLength: 4_000 }), (steps) => {
        const index = new KeyIndex();
        const model = new Map<string, number>();
        steps.forEach((step, i) => {
          if (step[0] === 'set') {
            index.set(step[1], step[2]);
            model.set(step[1], step[2]);
          } else if (step[0] === 'delete') expect(index.delete(step[1])).toBe(model.delete(step[1]));
          else expect(index.get(step[1])).toBe(model.get(step[1]) ?? ABSENT);
          if (i % 500 === 0) expectSame(index, model);
        });
        expectSame(index, model);
      }),
      { numRuns: 40 },
    );
  });

  it('keeps every key through growth, and stays small when keys come and go (the offline sweep)', () => {
    const index = new KeyIndex();
    for (let i = 0; i < 100_000; i++) index.set(`customer-${i}`, i);
    for (let i = 0; i < 100_000; i += 2) expect(index.delete(`customer-${i}`)).toBe(true);
    expect(index.size).toBe(50_000);
    for (let i = 1; i < 100_000; i += 2) expect(index.get(`customer-${i}`)).toBe(i);
    for (let i = 0; i < 100_000; i += 2) expect(index.get(`customer-${i}`)).toBe(ABSENT);

    const sweep = new KeyIndex();
    for (let i = 0; i < 200_000; i++) {
      sweep.set(`entity-${i}`, i);
      if (i >= 1_000) sweep.delete(`entity-${i - 1_000}`);
    }
    expect(sweep.size).toBe(1_000);
    // Deleted keys' room is taken back: the columns hold a few live sets' worth, not 200,000 entries.
    expect(sweep.entrySpan).toBeLessThan(4_096);
    expect([...sweep.entries()].map(([key]) => key)).toEqual(
      Array.from({ length: 1_000 }, (_, k) => `entity-${199_000 + k}`),
    );
  });
});
