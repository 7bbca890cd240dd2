/**
 * The tile trees of many entities, in one shared store: every window read equals a direct scan of the window,
 * whatever the order of appends, late inserts, evictions (release) and reads across entities and columns.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as summary from '../../src/engine/core/operators/numeric-summary.js';
import { TILE_SCAN_LIMIT, TileTrees } from '../../src/engine/core/tile-trees.js';

const W = summary.WIDTH;
/** Numeric columns 0 and 2 carry tiles, column 1 does not (it is never read through the trees). */
const TREE_COLUMNS = [true, false, true];
const ENTITIES = 5;

const valueArb = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  { weight: 1, arbitrary: fc.constant(Number.NaN) }, // a null
);

const stepArb = fc.oneof(
  fc.record({
    kind: fc.constant('append' as const),
    entity: fc.nat(ENTITIES - 1),
    values: fc.array(valueArb, { minLength: 1, maxLength: 300, size: 'max' }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    entity: fc.nat(ENTITIES - 1),
    at: fc.nat(),
    value: valueArb,
  }),
  fc.record({ kind: fc.constant('evict' as const), entity: fc.nat(ENTITIES - 1), drop: fc.nat() }),
  fc.record({
    kind: fc.constant('read' as const),
    entity: fc.nat(ENTITIES - 1),
    column: fc.constantFrom(0, 2),
    a: fc.nat(),
    b: fc.nat(),
  }),
);

describe('tile trees', () => {
  it('read every window as a direct scan does, across entities sharing one store', () => {
    let treeReads = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }), (steps) => {
        const trees = new TileTrees(TREE_COLUMNS);
        // Each entity's columns at base 0 of arrays of its own (in the engine: a region of the slab).
        const columns = Array.from({ length: ENTITIES }, () => TREE_COLUMNS.map(() => [] as number[]));
        const out = new Float64Array(W);
        const expected = new Float64Array(W);
        for (const step of steps) {
          const own = columns[step.entity]!;
          const n = own[0]!.length;
          if (step.kind === 'append') {
            for (const c of own) c.push(...step.values);
            trees.invalidateFrom(step.entity, n);
          } else if (step.kind === 'insert') {
            const at = step.at % (n + 1);
            for (const c of own) c.splice(at, 0, step.value);
            trees.invalidateFrom(step.entity, at);
          } else if (step.kind === 'evict') {
            const drop = step.drop % (n + 1);
            for (const c of own) c.splice(0, drop);
            trees.release(step.entity);
          } else {
            const lo = Math.min(step.a, step.b) % (n + 1);
            const hi = lo + ((Math.max(step.a, step.b) - Math.min(step.a, step.b)) % (n - lo + 1));
            const values = Float64Array.from(own[step.column]!);
            trees.query(step.entity, step.column, values, 0, n, lo, hi, out, 0);
            summary.init(expected, 0);
            summary.addBatch(expected, 0, values, lo, hi);
            expect(summary.count(out, 0)).toBe(summary.count(expected, 0));
            expect(summary.sum(out, 0)).toBe(summary.sum(expected, 0)); // integers: exact
            expect(summary.min(out, 0)).toBe(summary.min(expected, 0));
            expect(summary.max(out, 0)).toBe(summary.max(expected, 0));
            const mean = summary.mean(expected, 0);
            if (mean === null) expect(summary.mean(out, 0)).toBeNull();
            else expect(summary.mean(out, 0)).toBeCloseTo(mean, 6);
            if (hi - lo > TILE_SCAN_LIMIT) treeReads++;
          }
        }
      }),
      { numRuns: 300, seed: 11 },
    );
    // The cases reach the trees, not only the direct scan of short windows.
    expect(treeReads).toBeGreaterThan(100);
  });

  it("reads right after an entity's trees are released and its region goes to another entity", () => {
    const trees = new TileTrees(TREE_COLUMNS);
    const values = Float64Array.from({ length: 1000 }, (_, i) => i);
    const out = new Float64Array(W);
    // A short window is scanned: no tree, so nothing to invalidate or release.
    trees.query(7, 0, values, 0, 1000, 100, 100 + TILE_SCAN_LIMIT, out, 0);
    expect(summary.sum(out, 0)).toBe(((100 + 100 + TILE_SCAN_LIMIT - 1) * TILE_SCAN_LIMIT) / 2);
    trees.query(3, 2, values, 0, 1000, 0, 1000, out, 0);
    expect(summary.sum(out, 0)).toBe(499_500);
    // Entity 3's tree goes; entity 4's long read may then get its region, and entity 3 builds a new one.
    trees.release(3);
    trees.query(4, 2, values, 0, 1000, 10, 990, out, 0);
    expect(summary.sum(out, 0)).toBe(499_500 - 45 - (990 + 999) * 5);
    trees.query(3, 2, values, 0, 1000, 0, 500, out, 0);
    expect(summary.sum(out, 0)).toBe(124_750);
  });
});
