import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DDSketch, RELATIVE_ACCURACY } from '../../src/engine/core/operators/ddsketch.js';
import { DistinctCounter } from '../../src/engine/core/operators/distinct-counter.js';
import { hashString } from '../../src/engine/core/operators/hash.js';
import { HyperLogLog, RELATIVE_STANDARD_ERROR } from '../../src/engine/core/operators/hyperloglog.js';
import * as summary from '../../src/engine/core/operators/numeric-summary.js';
import { FirstK, LastK } from '../../src/engine/core/operators/recency.js';

const W = summary.WIDTH;
const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => (Math.abs(x) < 1e-150 ? 0 : x));

describe('numeric summary', () => {
  it('merging two halves equals adding everything; batch equals one by one', () => {
    fc.assert(
      fc.property(fc.array(finite, { maxLength: 200 }), fc.nat(), (xs, cut) => {
        const split = xs.length ? cut % xs.length : 0;
        const s = new Float64Array(3 * W);
        summary.init(s, 0);
        summary.init(s, W);
        summary.init(s, 2 * W);
        for (const x of xs) summary.add(s, 0, x);
        summary.addBatch(s, W, Float64Array.from(xs.slice(0, split)), 0, split);
        summary.addBatch(s, 2 * W, Float64Array.from(xs.slice(split)), 0, xs.length - split);
        summary.merge(s, W, s, 2 * W);
        const m = Math.max(0, ...xs.map(Math.abs));
        const close = (a: number | null, b: number | null, scale: number) =>
          a === b ||
          (a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), scale));
        expect(summary.count(s, W)).toBe(xs.length);
        expect(close(summary.sum(s, W), summary.sum(s, 0), m)).toBe(true);
        expect(close(summary.variance(s, W), summary.variance(s, 0), m * m)).toBe(true);
        expect(summary.min(s, W)).toBe(summary.min(s, 0));
        expect(summary.max(s, W)).toBe(summary.max(s, 0));
      }),
      { numRuns: 500, seed: 1 },
    );
  });

  it('a batch gives the very doubles of adding its values one by one, onto any state, nulls skipped', () => {
    const value = fc.oneof(finite, fc.constant(Number.NaN));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 100 }), fc.array(value, { maxLength: 100 }), (before, xs) => {
        const s = new Float64Array(2 * W);
        summary.init(s, 0);
        summary.init(s, W);
        for (const x of before) {
          summary.add(s, 0, x);
          summary.add(s, W, x);
        }
        for (const x of xs) summary.add(s, 0, x);
        summary.addBatch(s, W, Float64Array.from([0, ...xs, 0]), 1, xs.length + 1);
        expect([...s.subarray(W)]).toEqual([...s.subarray(0, W)]);
      }),
      { numRuns: 300, seed: 2 },
    );
  });

  it('removes values exactly where the operation is invertible, and keeps small terms of cancelling sums', () => {
    const s = new Float64Array(W);
    summary.init(s, 0);
    for (const x of [1e17, 1, -1e17, 3]) summary.add(s, 0, x);
    expect(summary.sum(s, 0)).toBe(4);
    summary.remove(s, 0, 3);
    expect(summary.count(s, 0)).toBe(3);
    expect(summary.sum(s, 0)).toBe(1);
    summary.add(s, 0, Number.NaN); // null
    expect(summary.count(s, 0)).toBe(3);
  });
});

describe('HyperLogLog', () => {
  it.each([10, 1_000, 20_000, 200_000])(
    'estimates %i distinct values within 3 standard errors (fixed hashes)',
    (n) => {
      const hll = new HyperLogLog();
      for (let i = 0; i < n; i++) hll.addHash(hashString(`merchant-${i}`));
      for (let i = 0; i < n; i += 7) hll.addHash(hashString(`merchant-${i}`)); // repeats change nothing
      expect(Math.abs(hll.estimate() - n)).toBeLessThanOrEqual(3 * RELATIVE_STANDARD_ERROR * n + 1);
    },
  );

  it('merges to the union', () => {
    const a = new HyperLogLog();
    const b = new HyperLogLog();
    const both = new HyperLogLog();
    for (let i = 0; i < 5000; i++) {
      (i % 2 ? a : b).addHash(hashString(`v${i}`));
      both.addHash(hashString(`v${i}`));
    }
    a.merge(b);
    expect(a.estimate()).toBe(both.estimate());
  });
});

describe('DDSketch', () => {
  it('returns every nearest-rank quantile within its relative accuracy', () => {
    fc.assert(
      fc.property(
        fc.array(finite, { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (xs, q) => {
          const sketch = new DDSketch();
          sketch.addBatch(Float64Array.from(xs), 0, xs.length);
          const exact = [...xs].sort((a, b) => a - b)[Math.max(1, Math.ceil(q * xs.length)) - 1]!;
          expect(Math.abs(sketch.quantile(q)! - exact)).toBeLessThanOrEqual(
            RELATIVE_ACCURACY * Math.abs(exact) + 1e-9,
          );
        },
      ),
      { numRuns: 500, seed: 2 },
    );
  });

  it('removes and merges', () => {
    const a = new DDSketch();
    const b = new DDSketch();
    for (let i = 1; i <= 100; i++) (i <= 50 ? a : b).add(i);
    a.merge(b);
    expect(a.quantile(0.5)).toBeCloseTo(50, -0.5);
    for (let i = 51; i <= 100; i++) a.remove(i);
    expect(a.count).toBe(50);
    expect(Math.abs(a.quantile(1)! - 50)).toBeLessThanOrEqual(0.5);
    expect(new DDSketch().quantile(0.5)).toBeNull();
  });
});

describe('recency and distinct operators', () => {
  it('orders by (time, arrival): of equal times the later arrival is more recent', () => {
    const last = new LastK<string>(2);
    const first = new FirstK<string>(2);
    for (const [time, seq, v] of [
      [5, 0, 'a'],
      [5, 2, 'c'],
      [3, 1, 'b'],
      [9, 3, 'd'],
    ] as const) {
      last.add(time, seq, v);
      first.add(time, seq, v);
    }
    expect(last.result()).toEqual(['d', 'c']);
    expect(first.result()).toEqual(['b', 'a']);
    const other = new LastK<string>(2);
    other.add(5, 1, 'x');
    other.add(10, 4, 'y');
    last.merge(other);
    expect(last.result()).toEqual(['y', 'd']);
  });

  it('counts distinct ids with add, remove and merge', () => {
    const a = new DistinctCounter();
    a.addBatch(Int32Array.from([1, 2, 2, -1, 3]), 0, 5);
    expect(a.result()).toBe(3);
    a.remove(2);
    expect(a.result()).toBe(3);
    a.remove(2);
    expect(a.result()).toBe(2);
    const b = new DistinctCounter();
    b.add(9);
    a.merge(b);
    expect(a.result()).toBe(3);
  });
});
