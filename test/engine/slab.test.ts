/** The slab's buddy allocator: live regions never overlap, and freed regions merge back into whole chunks. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK_UNITS, MIN_REGION, regionCapacity, Slab } from '../../src/engine/core/slab.js';

interface Region {
  readonly address: number;
  readonly capacity: number;
}

function overlaps(a: Region, b: Region): boolean {
  return a.address < b.address + b.capacity && b.address < a.address + a.capacity;
}

describe('the slab', () => {
  it('hands out regions that never overlap, whatever the order of allocations and releases', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 5_000 }), fc.nat()), { maxLength: 300 }),
        (steps) => {
          const slab = new Slab(1, 1);
          const live: Region[] = [];
          for (const [allocate, size, pick] of steps) {
            if (allocate || live.length === 0) {
              const capacity = regionCapacity(size);
              const region = { address: slab.allocate(capacity), capacity };
              const chunk = slab.chunkOf(region.address);
              expect(Slab.offsetOf(region.address) + capacity).toBeLessThanOrEqual(chunk.times.length);
              for (const other of live) expect(overlaps(region, other)).toBe(false);
              live.push(region);
            } else {
              const [region] = live.splice(pick % live.length, 1);
              slab.release(region!.address, region!.capacity);
            }
          }
          for (const region of live) slab.release(region.address, region.capacity);
          // Everything merged back: a whole-chunk region comes from a chunk already allocated.
          if (slab.chunks.length === 0) return;
          const before = slab.capacityUnits;
          const largest = Math.max(...slab.chunks.map((c) => c?.times.length ?? 0), MIN_REGION);
          const again = slab.allocate(largest);
          expect(slab.capacityUnits).toBe(before);
          slab.release(again, largest);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reuses the regions left behind while many timelines grow side by side', () => {
    const slab = new Slab(1, 1);
    const timelines = Array.from({ length: 10_000 }, () => ({ address: slab.allocate(8), capacity: 8 }));
    for (let round = 0; round < 3; round++) {
      for (const t of timelines) {
        const address = slab.allocate(t.capacity * 2);
        slab.release(t.address, t.capacity);
        t.address = address;
        t.capacity *= 2;
      }
    }
    const live = timelines.length * 64;
    expect(slab.capacityUnits).toBeLessThan(1.5 * live);
  });

  it('gives a region larger than a chunk a chunk of its own, and drops it when released', () => {
    const slab = new Slab(1, 1);
    const address = slab.allocate(2 * CHUNK_UNITS);
    expect(slab.chunkOf(address).times.length).toBe(2 * CHUNK_UNITS);
    slab.release(address, 2 * CHUNK_UNITS);
    expect(slab.capacityUnits).toBe(0);
  });
});
