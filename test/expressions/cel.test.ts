import { describe, expect, it } from 'vitest';
import { haversineKm } from '../../src/expressions/builtins.js';
import { compileCel, ExpressionError } from '../../src/expressions/cel.js';

describe('CEL expressions', () => {
  it('mixes integer literals with doubles, since numbers are doubles', () => {
    expect(compileCel('amount * 2 + 1', { amount: 'double' }).evaluate({ amount: 1.5 })).toBe(4);
    expect(compileCel('1 + 2', {}).evaluate({})).toBe(3); // ints come back as numbers
  });

  it('gives null for a null input, a division by zero, NaN or infinity', () => {
    const ratio = compileCel('a / b', { a: 'double', b: 'double' });
    expect(ratio.evaluate({ a: null, b: 1 })).toBeNull();
    expect(ratio.evaluate({ a: 1, b: 0 })).toBeNull();
    expect(ratio.evaluate({ a: 0, b: 0 })).toBeNull();
    expect(compileCel('sqrt(x)', { x: 'double' }).evaluate({ x: -1 })).toBeNull();
    expect(
      compileCel('zscore(x, m, s)', { x: 'double', m: 'double', s: 'double' }).evaluate({ x: 3, m: 1, s: 0 }),
    ).toBeNull();
    expect(
      compileCel('zscore(x, m, s)', { x: 'double', m: 'double', s: 'double' }).evaluate({ x: 3, m: 1, s: 4 }),
    ).toBe(0.5);
  });

  it('computes haversine distances (Paris to London ≈ 343.5 km)', () => {
    expect(haversineKm(48.8566, 2.3522, 51.5074, -0.1278)).toBeCloseTo(343.5, 0);
    const expr = compileCel('haversine_km(request.lat, request.lon, last.lat, last.lon)', {
      request: { fields: { lat: 'double', lon: 'double' } },
      last: { fields: { lat: 'double', lon: 'double' } },
    });
    expect(expr.inputs).toEqual(['request', 'last']);
    expect(expr.evaluate({ request: { lat: 0, lon: 0 }, last: { lat: 0, lon: 1 } })).toBeCloseTo(111.19, 1);
    expect(expr.evaluate({ request: { lat: 0, lon: 0 }, last: null })).toBeNull();
  });

  it('refuses type errors and unknown names at compile time, with the reason', () => {
    expect(() => compileCel("amount > 'x'", { amount: 'double' })).toThrow(ExpressionError);
    expect(() => compileCel('missing + 1.0', { amount: 'double' })).toThrow(/Unknown variable: missing/);
    expect(() => compileCel('amount +', { amount: 'double' })).toThrow(/invalid expression/);
  });
});
