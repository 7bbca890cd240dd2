/** Each evolution rule of docs/schemas.md with an accepted and a refused example, for JSON Schema and Avro. */
import { describe, expect, it } from 'vitest';
import { compatibilityProblems, type SchemaVersion } from '../../src/contracts/compatibility.js';

const json = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}): SchemaVersion => ({
  type: 'JSON',
  schema: { type: 'object', properties, ...extra },
});
const avro = (fields: unknown[]): SchemaVersion => ({
  type: 'AVRO',
  schema: { type: 'record', name: 'Payment', fields },
});

const base = json({ id: { type: 'string' }, amount: { type: 'number' } }, { required: ['id'] });
const closed = json(
  { id: { type: 'string' }, amount: { type: 'number' } },
  { required: ['id'], additionalProperties: false },
);

describe('JSON Schema evolution rules', () => {
  it.each([
    [
      'widening a type',
      json({ id: { type: 'string' }, amount: { type: ['number', 'string'] } }, { required: ['id'] }),
      base,
      'BACKWARD',
      true,
    ],
    [
      'narrowing a type',
      json({ id: { type: 'string' }, amount: { type: 'integer' } }, { required: ['id'] }),
      base,
      'BACKWARD',
      false,
    ],
    [
      'making a field required',
      json({ id: { type: 'string' }, amount: { type: 'number' } }, { required: ['id', 'amount'] }),
      base,
      'BACKWARD',
      false,
    ],
    [
      'making a field optional',
      json({ id: { type: 'string' }, amount: { type: 'number' } }),
      base,
      'BACKWARD',
      true,
    ],
    [
      'removing a field (open model)',
      json({ id: { type: 'string' } }, { required: ['id'] }),
      base,
      'BACKWARD',
      true,
    ],
    [
      'removing a field (closed model)',
      json({ id: { type: 'string' } }, { required: ['id'], additionalProperties: false }),
      closed,
      'BACKWARD',
      false,
    ],
    [
      'adding a typed field (open model: old data may hold anything there)',
      json(
        { id: { type: 'string' }, amount: { type: 'number' }, lat: { type: 'number' } },
        { required: ['id'] },
      ),
      base,
      'BACKWARD',
      false,
    ],
    [
      'adding a typed field (closed model)',
      json(
        { id: { type: 'string' }, amount: { type: 'number' }, lat: { type: 'number' } },
        { required: ['id'], additionalProperties: false },
      ),
      closed,
      'BACKWARD',
      true,
    ],
    ['closing an open model', closed, base, 'BACKWARD', false],
    [
      'adding a field, read forward by the old open schema',
      json(
        { id: { type: 'string' }, amount: { type: 'number' }, lat: { type: 'number' } },
        { required: ['id'] },
      ),
      base,
      'FORWARD',
      true,
    ],
    ['removing a required field, read forward', json({ amount: { type: 'number' } }), base, 'FORWARD', false],
    [
      'any change under NONE',
      json({ other: { type: 'boolean' } }, { required: ['other'] }),
      base,
      'NONE',
      true,
    ],
  ] as const)('%s → compatible: %s', (_name, candidate, previous, mode, compatible) => {
    expect(compatibilityProblems(mode, candidate, [previous]).length === 0).toBe(compatible);
  });

  it('checks every earlier version only in the transitive modes', () => {
    const v1 = json({ id: { type: 'string' }, amount: { type: 'number' } }, { required: ['id', 'amount'] });
    const v2 = json(
      { id: { type: 'string' }, amount: { type: ['number', 'null'] } },
      { required: ['id', 'amount'] },
    );
    const v3 = json(
      { id: { type: 'string' }, amount: { type: ['number', 'null'] } },
      { required: ['id', 'amount'] },
    );
    const v3Narrow = json(
      { id: { type: 'string' }, amount: { type: 'null' } },
      { required: ['id', 'amount'] },
    );
    expect(compatibilityProblems('BACKWARD', v3, [v1, v2])).toEqual([]);
    expect(compatibilityProblems('FORWARD', v3Narrow, [v1, v2])).toEqual([]); // v2 reads "null" amounts
    expect(compatibilityProblems('FORWARD_TRANSITIVE', v3Narrow, [v1, v2])[0]).toContain('version 1');
  });

  it('explains each problem with the field', () => {
    const problems = compatibilityProblems(
      'BACKWARD',
      json({ id: { type: 'integer' } }, { required: ['id', 'ts'] }),
      [base],
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('ts: now required'),
        expect.stringContaining('id: type ["integer"] does not accept ["string"]'),
      ]),
    );
  });
});

describe('Avro schema resolution', () => {
  const v1 = avro([
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'double' },
  ]);
  it.each([
    [
      'adding a field with a default',
      avro([
        { name: 'id', type: 'string' },
        { name: 'amount', type: 'double' },
        { name: 'lat', type: ['null', 'double'], default: null },
      ]),
      'FULL',
      true,
    ],
    [
      'adding a field without a default',
      avro([
        { name: 'id', type: 'string' },
        { name: 'amount', type: 'double' },
        { name: 'lat', type: 'double' },
      ]),
      'BACKWARD',
      false,
    ],
    [
      'promoting int to long is not narrowing',
      avro([
        { name: 'id', type: 'string' },
        { name: 'amount', type: 'string' },
      ]),
      'BACKWARD',
      false,
    ],
    ['removing a field (the old reader needs it)', avro([{ name: 'id', type: 'string' }]), 'FORWARD', false],
    ['removing a field, read backward', avro([{ name: 'id', type: 'string' }]), 'BACKWARD', true],
  ] as const)('%s → compatible: %s', (_name, candidate, mode, compatible) => {
    expect(compatibilityProblems(mode, candidate, [v1]).length === 0).toBe(compatible);
  });

  it('refuses a change of schema type', () => {
    expect(compatibilityProblems('BACKWARD', base, [v1])[0]).toContain('schema type changed');
  });
});
