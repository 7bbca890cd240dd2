/**
 * The stored-event scanner against JSON.parse: on random stored events (flat or not, escapes, unicode, numbers
 * of every form, nulls, booleans, repeated and missing fields, any whitespace), every event it takes must fill
 * the columns exactly as the JSON path does, and it must take the common shape.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fillFromJson, StoredEventScanner } from '../../src/engine/online/stored-event-scanner.js';

const NUMERIC = ['amount', 'lat'];
const VALUES = ['merchantId', 'customerId', 'amount'];
const NAMES = [...NUMERIC, ...VALUES, 'other', 'ts', 'tag'];

const space = fc.constantFrom('', '', '', ' ', '\n', ' \t', '\r\n ');
const scalar = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map((n) => Number(n)),
  fc.constantFrom(null, true, false, -0, 0, 1e21, 5e-324, 123456789012345, 1234567890123456),
);
const nested = fc.oneof(fc.constant({ a: 1 }), fc.constant([1, 'x']), fc.constant({}));
const member = fc.tuple(fc.constantFrom(...NAMES), fc.oneof({ weight: 9, arbitrary: scalar }, nested));

/** JSON text with whitespace around every token, numbers written in one of their equivalent forms. */
function write(value: unknown, pad: () => string): string {
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 1e15 && !Object.is(value, -0))
    return pad() === ' ' ? `${value}.0` : String(value);
  return JSON.stringify(value);
}

const storedEvent = fc
  .record({
    t: fc.integer({ min: 0, max: 2 ** 42 }),
    members: fc.array(member, { maxLength: 7 }),
    spaces: fc.array(space, { minLength: 40, maxLength: 40 }),
    exponentTime: fc.boolean(),
  })
  .map(({ t, members, spaces, exponentTime }) => {
    let k = 0;
    const pad = () => spaces[k++ % spaces.length]!;
    const time = exponentTime ? `${t / 1000}e3` : String(t);
    const body = members.map(
      ([name, value]) => `${pad()}${JSON.stringify(name)}${pad()}:${pad()}${write(value, pad)}${pad()}`,
    );
    return `${pad()}{${pad()}"t"${pad()}:${pad()}${time}${pad()},${pad()}"f"${pad()}:${pad()}{${body.join(',')}}${pad()}}${pad()}`;
  });

function columns() {
  return {
    times: new Float64Array(1),
    numeric: NUMERIC.map(() => new Float64Array(1)),
    values: VALUES.map(() => new Array<unknown>(1)),
  };
}

describe('the stored-event scanner', () => {
  it('fills the columns exactly as JSON.parse does, for every event it takes', () => {
    const scanner = new StoredEventScanner(NUMERIC, VALUES);
    let taken = 0;
    let runs = 0;
    fc.assert(
      fc.property(storedEvent, (text) => {
        runs++;
        const bytes = Buffer.from(`xx${text}yy`, 'utf8');
        const scanned = columns();
        const parsed = columns();
        fillFromJson(
          text,
          0,
          { numeric: NUMERIC, values: VALUES },
          parsed.times,
          parsed.numeric,
          parsed.values,
        );
        if (!scanner.scan(bytes, 2, bytes.length - 2, 0, scanned.times, scanned.numeric, scanned.values))
          return;
        taken++;
        expect(Object.is(scanned.times[0], parsed.times[0])).toBe(true);
        for (let c = 0; c < NUMERIC.length; c++)
          expect(Object.is(scanned.numeric[c]![0], parsed.numeric[c]![0]), `${NUMERIC[c]} in ${text}`).toBe(
            true,
          );
        for (let c = 0; c < VALUES.length; c++)
          expect(Object.is(scanned.values[c]![0], parsed.values[c]![0]), `${VALUES[c]} in ${text}`).toBe(
            true,
          );
      }),
      { numRuns: 5_000 },
    );
    // Most random events are flat and unescaped: the scanner must take them, not hand everything to JSON.parse.
    expect(taken).toBeGreaterThan(runs / 3);
  });

  it('hands nested values, escapes and other layouts to JSON.parse', () => {
    const scanner = new StoredEventScanner(NUMERIC, VALUES);
    const c = columns();
    for (const text of [
      '{"t":1,"f":{"amount":{"a":1}}}',
      '{"t":1,"f":{"merchantId":"a\\"b"}}',
      '{"f":{"amount":1},"t":1}',
      '{"t":1,"f":{"amount":1},"x":2}',
      '{"t":1,"f":{"amount":1}',
    ]) {
      const bytes = Buffer.from(text);
      expect(scanner.scan(bytes, 0, bytes.length, 0, c.times, c.numeric, c.values), text).toBe(false);
    }
    const flat = Buffer.from('{"t":5,"f":{"amount":12.5,"merchantId":"m1","customerId":7,"tag":true}}');
    expect(scanner.scan(flat, 0, flat.length, 0, c.times, c.numeric, c.values)).toBe(true);
    expect([
      c.times[0],
      c.numeric[0]![0],
      c.numeric[1]![0],
      c.values[0]![0],
      c.values[1]![0],
      c.values[2]![0],
    ]).toEqual([5, 12.5, Number.NaN, 'm1', 7, 12.5]);
  });
});
