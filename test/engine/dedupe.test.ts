/**
 * De-duplication against a naive model (one map of first arrivals): same answers for random arrivals of
 * repeated ids, within and beyond the horizon, with forgotten ids; and expired ids are really forgotten, both by
 * `expire` and by the sweep that runs as ids are accepted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deduplicator } from '../../src/engine/core/dedupe.js';

const HORIZON = 1_000;

describe('Deduplicator', () => {
  it('answers as the naive model does', () => {
    const step = fc.record({
      id: fc.oneof(fc.integer({ min: 0, max: 30 }).map(String), fc.string({ maxLength: 4 })),
      advance: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 })),
      forget: fc.boolean().map((b) => b && Math.random() < 0.2),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const dedupe = new Deduplicator(HORIZON);
        const model = new Map<string, number>();
        let now = 0;
        for (const { id, advance, forget } of steps) {
          now += advance;
          const seen = model.get(id);
          const expected = seen === undefined || now - seen > HORIZON;
          if (expected) model.set(id, now);
          expect(dedupe.accept(id, now)).toBe(expected);
          if (forget && expected) {
            dedupe.forget(id);
            model.delete(id);
          }
        }
        dedupe.expire(now);
        expect(dedupe.size).toBe([...model.values()].filter((seen) => now - seen <= HORIZON).length);
      }),
      { numRuns: 500, seed: 4 },
    );
  });

  it('forgets expired ids as it goes, without a full sweep', () => {
    const dedupe = new Deduplicator(HORIZON);
    for (let i = 0; i < 200_000; i++) dedupe.accept(`p${i}`, i);
    // Everything older than the horizon is swept shard by shard; only recent ids and one sweep cycle remain.
    expect(dedupe.size).toBeLessThan(200_000 / 2);
    expect(dedupe.accept('p199999', 200_000)).toBe(false);
    expect(dedupe.duplicates).toBe(1);
  });
});
