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
      id: fc.oneof(
        fc.integer({ min: 0, max: 30 }).map(String),
        fc.string({ maxLength: 4 }),
        fc.constantFrom('é', 'e\u0301', '☕', ''),
      ),
      advance: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 })),
      forget: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      asBytes: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const dedupe = new Deduplicator(HORIZON);
        const model = new Map<string, number>();
        let now = 0;
        for (const { id, advance, forget, asBytes } of steps) {
          now += advance;
          const seen = model.get(id);
          const expected = seen === undefined || now - seen > HORIZON;
          if (expected) model.set(id, now);
          // The same id as a string or as UTF-8 bytes inside a larger buffer: one identity.
          const buffer = Buffer.from(`«${id}»`);
          const [start, end] = [Buffer.byteLength('«'), buffer.length - Buffer.byteLength('»')];
          expect(asBytes ? dedupe.acceptBytes(buffer, start, end, now) : dedupe.accept(id, now)).toBe(
            expected,
          );
          if (forget && expected) {
            if (asBytes) dedupe.forgetBytes(buffer, start, end);
            else dedupe.forget(id);
            model.delete(id);
          }
        }
        dedupe.expire(now);
        expect(dedupe.size).toBe([...model.values()].filter((seen) => now - seen <= HORIZON).length);
      }),
      { numRuns: 1_000, seed: 4 },
    );
  });

  it('tells apart ids whose hashes collide (300k ids of one length: a few 32-bit collisions are expected)', () => {
    const dedupe = new Deduplicator();
    let fresh = 0;
    const seen = new Set<string>();
    let state = 7;
    const random = () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state;
    };
    for (let i = 0; i < 300_000; i++) {
      const id = `${random().toString(36).padStart(7, '0')}${random().toString(36).padStart(7, '0')}`;
      if (seen.has(id)) continue;
      seen.add(id);
      if (dedupe.accept(id, i)) fresh++;
    }
    expect(fresh).toBe(seen.size);
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
