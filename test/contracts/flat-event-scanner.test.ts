/**
 * The contract's fast path against its full check: whenever the scan says "certainly valid", JSON.parse + ajv +
 * normalisation must accept the same text with the same time, partition key and id, and nothing normalised.
 * Texts: valid events written with random spacing and property order, wrong types, numbers in every JSON form,
 * escapes and unicode, unknown and repeated properties, nesting, and random single-character mutations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamContract } from '../../src/contracts/contract.js';
import { FlatEventScanner, type ScannedEvent } from '../../src/contracts/flat-event-scanner.js';
import type { StreamPlan } from '../../src/definitions/plan.js';

const NOW = Date.UTC(2026, 0, 1, 12);

function stream(schema: object, extra: Partial<StreamPlan> = {}): StreamPlan {
  return {
    name: 'payments',
    keys: { customer: 'customerId', merchant: 'merchantId' },
    timeField: 'ts',
    idField: 'paymentId',
    compatibility: 'BACKWARD',
    schema,
    fields: [],
    ...extra,
  };
}

const payments = stream({
  type: 'object',
  required: ['paymentId', 'customerId', 'merchantId', 'ts', 'amount'],
  properties: {
    paymentId: { type: ['string', 'integer'] },
    customerId: { type: 'string' },
    merchantId: { type: 'string', description: 'where' },
    ts: { type: ['integer', 'string'] },
    amount: { type: 'number' },
    count: { type: 'integer' },
    flag: { type: ['boolean', 'null'] },
    note: {},
  },
});
const closed = stream({
  type: 'object',
  additionalProperties: false,
  required: ['customerId', 'merchantId', 'ts'],
  properties: {
    paymentId: { type: 'string' },
    customerId: { type: 'string' },
    merchantId: { type: 'string' },
    ts: { type: 'number' },
    amount: { type: ['number', 'null'] },
  },
});

const scalar = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('', 'c1', 'é', '\\', '"', '\n', '\u0000', '\u2028'),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.integer({ min: NOW - 1e9, max: NOW + 1e9 }),
  fc.double(),
  fc.constantFrom(0, -0, 1e300, 2 ** 53, 2 ** 53 + 2, 123456789012345, 1234567890123456, 0.5),
  fc.boolean(),
  fc.constant(null),
  fc.constant({ nested: 1 }),
  fc.constant([1]),
);
const NAMES = ['paymentId', 'customerId', 'merchantId', 'ts', 'amount', 'count', 'flag', 'note', 'other', ''];

/** Numbers in other JSON spellings than JSON.stringify's: exponents, trailing zeros, upper-case E. */
const numberText = fc.constantFrom(
  '1e3',
  '1E3',
  '1.0',
  '-0',
  '10.50',
  '1e400',
  '-1e-400',
  '0.0e0',
  `${NOW}.0`,
  `${NOW}e0`,
  '1767268800000',
  '17672688000001234',
);

const space = fc.constantFrom('', '', '', ' ', '\t', '\r\n', '  ');

/** An object written by hand: random order, spacing, repeated and unknown names, values of any kind. */
const objectText = fc
  .tuple(
    fc.array(
      fc.tuple(
        fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom(...NAMES) },
          { weight: 1, arbitrary: fc.constantFrom('pay\\u006dentId', '__proto__', 'ts ') },
        ),
        fc.oneof(
          { weight: 4, arbitrary: scalar.map((v) => JSON.stringify(v)) },
          { weight: 1, arbitrary: numberText },
        ),
        space,
        space,
      ),
      { maxLength: 10 },
    ),
    space,
    space,
  )
  .map(
    ([members, before, after]) =>
      `${before}{${members.map(([name, value, s1, s2]) => `${s1}"${name}"${s2}:${s1}${value}${s2}`).join(',')}}${after}`,
  );

/** A valid event, as producers usually send it. */
const typical = fc
  .record({
    paymentId: fc.oneof(fc.uuid(), fc.integer({ min: 0, max: 1e9 })),
    customerId: fc.oneof(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
    ),
    merchantId: fc.string({ minLength: 1, maxLength: 8 }),
    ts: fc.integer({ min: NOW - 1e10, max: NOW }),
    amount: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
  })
  .map((event) => JSON.stringify(event));

const mutated = fc
  .tuple(
    typical,
    fc.nat(),
    fc.constantFrom('', '"', '\\', ',', '}', '{', ':', '1', 'e', '.', '-', ' ', 'x', 'é'),
  )
  .map(([text, at, insert]) => {
    const i = at % (text.length + 1);
    return at % 2 ? text.slice(0, i) + insert + text.slice(i + 1) : text.slice(0, i) + insert + text.slice(i);
  });

/** A valid event reshaped: one property dropped, one repeated, one value replaced, members shuffled. */
const reshaped = fc
  .tuple(
    fc.record({
      paymentId: fc.uuid(),
      customerId: fc.string({ minLength: 1, maxLength: 6 }),
      merchantId: fc.string({ minLength: 1, maxLength: 6 }),
      ts: fc.integer({ min: NOW - 1e10, max: NOW }),
      amount: fc.integer(),
    }),
    fc.nat(),
    fc.nat(),
    fc.nat(),
    scalar,
    fc.boolean(),
  )
  .map(([event, drop, repeat, replace, value, shuffle]) => {
    const members: [string, unknown][] = Object.entries(event);
    if (drop % 3 === 0) members.splice(drop % members.length, 1);
    if (repeat % 3 === 0) members.push(members[repeat % members.length]!);
    if (replace % 3 === 0) members[replace % members.length] = [members[replace % members.length]![0], value];
    if (shuffle) members.reverse();
    return `{${members.map(([name, v]) => `${JSON.stringify(name)}:${JSON.stringify(v)}`).join(',')}}`;
  });

const anyText = fc.oneof(
  { weight: 3, arbitrary: reshaped },
  { weight: 3, arbitrary: objectText },
  { weight: 2, arbitrary: typical },
  { weight: 3, arbitrary: mutated },
  { weight: 1, arbitrary: fc.json() },
);

const compiled = new Map<StreamPlan, { scanner: FlatEventScanner; contract: StreamContract }>();

/** Bytes around the event in its buffer (the rest of an NDJSON chunk): the scan must stay within its range. */
const surroundings = fc.constantFrom('', '\n', '}', '"', '1', ',"x":1}', '{"ts":1}\n', ' ');

function agreesWithFullCheck(plan: StreamPlan, text: string, before = '', after = ''): boolean {
  let both = compiled.get(plan);
  if (!both)
    compiled.set(
      plan,
      (both = { scanner: FlatEventScanner.compile(plan)!, contract: new StreamContract(plan) }),
    );
  const { scanner, contract } = both;
  const out: ScannedEvent = { time: 0, partitionKey: '', id: null, idStart: -1, idEnd: -1 };
  const head = Buffer.byteLength(before);
  const buffer = Buffer.from(before + text + after, 'utf8');
  const end = buffer.length - Buffer.byteLength(after);
  if (!scanner.scan(buffer, head, end, out)) return false;
  // The full check sees the text as the intake decodes it (a lone surrogate became U+FFFD in UTF-8).
  text = buffer.toString('utf8', head, end);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`the scan accepted text that is not JSON: ${text}`);
  }
  const checked = contract.check(value, Number.MAX_VALUE);
  if (!checked.ok) throw new Error(`the scan accepted ${text}; the full check: ${checked.rejection.detail}`);
  expect({
    time: out.time,
    key: out.partitionKey,
    id: out.idStart >= 0 ? buffer.toString('utf8', out.idStart, out.idEnd) : out.id,
    normalised: false,
  }).toEqual({
    time: checked.event.time,
    key: checked.event.keys.customer,
    id: checked.event.id,
    normalised: checked.event.normalised,
  });
  return true;
}

describe('the flat event scanner (the contract fast path)', () => {
  for (const [name, plan] of [
    ['an open schema', payments],
    ['a closed schema', closed],
  ] as const) {
    it(`accepts only what the full check accepts, with the same time, key and id (${name})`, () => {
      let accepted = 0;
      fc.assert(
        fc.property(anyText, surroundings, surroundings, (text, before, after) => {
          if (agreesWithFullCheck(plan, text, before, after)) accepted++;
        }),
        { numRuns: 20_000, seed: 11 },
      );
      // The comparison means something only if the scan accepts a fair share of what it sees.
      expect(accepted).toBeGreaterThan(2_000);
    });
  }

  it('takes typical events (so the fast path is the common one)', () => {
    const scanner = FlatEventScanner.compile(payments)!;
    const out: ScannedEvent = { time: 0, partitionKey: '', id: null, idStart: -1, idEnd: -1 };
    const scan = (text: string) => scanner.scan(Buffer.from(text), 0, Buffer.byteLength(text), out);
    fc.assert(
      fc.property(
        typical.filter((text) => !text.includes('\\') && /^[\x20-\x7e]*$/.test(text)),
        (text) => scanner.scan(Buffer.from(text), 0, Buffer.byteLength(text), out),
      ),
      { numRuns: 2_000, seed: 12 },
    );
    expect(scan('{"paymentId":"p1","customerId":"c1","merchantId":"m1","ts":5,"amount":1.5}')).toBe(true);
    // The id "p1" (ASCII) as its bytes: 14 and 16 in that text.
    expect(out).toEqual({ time: 5, partitionKey: 'c1', id: null, idStart: 14, idEnd: 16 });
    // An event from the future is left to the full check, which refuses it with its reason.
    const contract = new StreamContract(payments);
    const ahead = (ts: number) => `{"paymentId":1,"customerId":"c","merchantId":"m","ts":${ts},"amount":1}`;
    const checkBytes = (text: string) => contract.checkBytes(Buffer.from(text), 0, text.length, NOW, out);
    expect(checkBytes(ahead(NOW + 60_000))).toBe(true);
    expect(checkBytes(ahead(NOW + 3_600_000))).toBe(false);
    // Keys are hashed as bytes to choose a partition: a non-ASCII key is left to the full check.
    expect(scan('{"paymentId":"p1","customerId":"é","merchantId":"m1","ts":5,"amount":1}')).toBe(false);
    expect(scan('{"paymentId":"é","customerId":"c","merchantId":"m1","ts":5,"amount":1}')).toBe(true);
    expect(out.id).toBe('é');
  });

  it('leaves schemas it cannot check to the full check', () => {
    const object = (properties: object, extra: object = {}) =>
      stream({ type: 'object', properties, ...extra });
    const base = {
      paymentId: {},
      customerId: { type: 'string' },
      merchantId: { type: 'string' },
      ts: { type: 'integer' },
    };
    expect(FlatEventScanner.compile(object(base))).not.toBeNull();
    expect(FlatEventScanner.compile(object({ ...base, amount: { type: 'number', minimum: 0 } }))).toBeNull();
    expect(FlatEventScanner.compile(object({ ...base, tags: { type: 'array' } }))).toBeNull();
    expect(FlatEventScanner.compile(object(base, { patternProperties: { '^x': {} } }))).toBeNull();
    expect(FlatEventScanner.compile(object(base, { additionalProperties: { type: 'string' } }))).toBeNull();
    expect(
      FlatEventScanner.compile(object({ customerId: { type: 'string' }, ts: { type: 'integer' } })),
    ).toBeNull();
  });
});
