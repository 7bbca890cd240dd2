/**
 * The sliding HyperLogLog: the registers of every window [start, +∞) are those of a plain HyperLogLog over the
 * events with time ≥ start, whatever the order the events came in (late ones, ties in time, repeated values).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REGISTERS, rankOf, registerOf } from '../../src/engine/core/operators/hyperloglog.js';
import { SlidingHyperLogLog } from '../../src/engine/core/sliding-hll.js';

/** Hashes that fall in a few registers, with all ranks, so that lists grow long and get rewritten. */
const hashArb = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 22 }), fc.nat())
  .map(([register, zeros, bits]) => {
    // The 22 bits under the register: `zeros` leading zeros, then a one (rank zeros + 1; none at all: rank 23).
    const rest = zeros >= 22 ? 0 : (1 << (21 - zeros)) | (bits & ((1 << (21 - zeros)) - 1));
    return (register << 22) | rest;
  });
const eventArb = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.oneof(hashArb, fc.integer()));

function registersOf(events: readonly (readonly [number, number])[], start: number): Uint8Array {
  const registers = new Uint8Array(REGISTERS);
  for (const [time, hash] of events) {
    if (time < start) continue;
    const register = registerOf(hash);
    registers[register] = Math.max(registers[register]!, rankOf(hash));
  }
  return registers;
}

describe('the sliding HyperLogLog', () => {
  it('gives every window the registers of its events', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 400, size: 'max' }),
        fc.array(fc.integer({ min: -1, max: 202 }), { minLength: 1, maxLength: 8 }),
        (events, starts) => {
          const sketch = new SlidingHyperLogLog();
          for (const [time, hash] of events) sketch.add(time, hash);
          const out = new Uint8Array(REGISTERS);
          for (const start of starts) {
            sketch.registersSince(start, out);
            expect(out).toEqual(registersOf(events, start));
          }
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });

  it('holds the longest lists ranks allow (each rank in turn, oldest highest)', () => {
    const sketch = new SlidingHyperLogLog();
    const events: [number, number][] = [];
    // Register 0, ranks 23 down to 1 at times 0…22: no entry dominates another, so the list holds all 23.
    for (let zeros = 22; zeros >= 0; zeros--) {
      const hash = zeros >= 22 ? 0 : 1 << (21 - zeros);
      events.push([22 - zeros, hash]);
      sketch.add(22 - zeros, hash);
    }
    expect(events.map(([, hash]) => rankOf(hash))).toEqual(Array.from({ length: 23 }, (_, i) => 23 - i));
    const out = new Uint8Array(REGISTERS);
    for (let start = 0; start <= 23; start++) {
      sketch.registersSince(start, out);
      expect(out).toEqual(registersOf(events, start));
    }
  });
});
