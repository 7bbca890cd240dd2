import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SparseIndex } from '../../src/log/embedded/sparse-index.js';

/** The last i with values[i] <= value, by a walk over all of them. */
function lastAtMostByWalk(values: readonly number[], value: number): number {
  let last = -1;
  for (let i = 0; i < values.length; i++) if (values[i]! <= value) last = i;
  return last;
}

describe('SparseIndex', () => {
  it('finds the last entry at or before an offset or a position, as a walk over plain arrays does', () =>
    fc.assert(
      fc.property(
        // Ascending offsets and positions from increments, past the initial capacity; offsets past 2^32 too.
        fc.array(fc.tuple(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 5000 })), {
          maxLength: 300,
        }),
        fc.double({ min: 0, max: 2 ** 33, noNaN: true }),
        fc.array(fc.integer({ min: -10, max: 400_000 }), { maxLength: 20 }),
        (steps, base, probes) => {
          const index = new SparseIndex();
          const offsets: number[] = [];
          const positions: number[] = [];
          let offset = Math.floor(base);
          let position = 0;
          for (const [offsetStep, positionStep] of steps) {
            index.push(offset, position);
            offsets.push(offset);
            positions.push(position);
            offset += offsetStep;
            position += positionStep;
          }
          expect(index.length).toBe(steps.length);
          for (let i = 0; i < offsets.length; i++) {
            expect(index.offsetAt(i)).toBe(offsets[i]);
            expect(index.positionAt(i)).toBe(positions[i]);
          }
          for (const probe of probes) {
            expect(index.lastAtPosition(probe)).toBe(lastAtMostByWalk(positions, probe));
            const offsetProbe = Math.floor(base) + probe / 50;
            expect(index.lastAtOffset(offsetProbe)).toBe(lastAtMostByWalk(offsets, offsetProbe));
          }
        },
      ),
    ));
});
