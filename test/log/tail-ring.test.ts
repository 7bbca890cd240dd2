import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TailRing } from '../../src/log/embedded/tail-ring.js';

interface Added {
  firstOffset: number;
  endOffset: number;
  bytes: Buffer;
}

/** Everything `batchesFrom(offset)` yields, joined. */
function readAll(ring: TailRing, offset: number): Buffer | null {
  const batches = ring.batchesFrom(offset);
  return batches ? Buffer.concat([...batches]) : null;
}

describe('TailRing', () => {
  it('holds a contiguous run of the latest batches, byte for byte, within its capacity', () => {
    // Batches of random sizes (some larger than the ring, some empty); each filled with its own index so that
    // an overwritten byte shows.
    const scenario = fc.record({
      capacity: fc.integer({ min: 1, max: 30_000 }),
      initialBytes: fc.integer({ min: 1, max: 5_000 }),
      sizes: fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 40_000 })), {
        maxLength: 120,
      }),
    });
    fc.assert(
      fc.property(scenario, ({ capacity, initialBytes, sizes }) => {
        const ring = new TailRing(capacity, Math.min(initialBytes, capacity));
        const added: Added[] = [];
        let offset = 0;
        for (const [i, size] of sizes.entries()) {
          const count = size === 0 ? 0 : 1 + (size % 5);
          const batch = {
            firstOffset: offset,
            endOffset: offset + count,
            bytes: Buffer.alloc(size, i % 251),
          };
          ring.add(batch.firstOffset, batch.endOffset, batch.bytes);
          added.push(batch);
          offset += count;

          // What is held: the batches from the oldest held one to the last, each as it was written.
          const nonEmpty = added.filter((a) => a.bytes.length > 0);
          const last = nonEmpty.at(-1);
          if (!last || last.bytes.length > capacity) {
            expect(ring.batchesFrom(last?.firstOffset ?? 0)).toBeNull();
            continue;
          }
          let oldest = nonEmpty.length - 1;
          while (oldest > 0 && ring.batchesFrom(nonEmpty[oldest - 1]!.firstOffset) !== null) oldest--;
          const run = nonEmpty.slice(oldest);
          const held = run.reduce((sum, a) => sum + a.bytes.length, 0);
          expect(held).toBeLessThanOrEqual(capacity);
          expect(readAll(ring, run[0]!.firstOffset)!.equals(Buffer.concat(run.map((a) => a.bytes)))).toBe(
            true,
          );
          // Reading from any held offset starts at the batch that holds it.
          const from = run[Math.floor(run.length / 2)]!;
          const fromThere = Buffer.concat(run.slice(run.indexOf(from)).map((a) => a.bytes));
          expect(readAll(ring, from.endOffset - 1)!.equals(fromThere)).toBe(true);
          // Nothing before the oldest held batch is offered.
          if (oldest > 0) expect(ring.batchesFrom(nonEmpty[oldest - 1]!.endOffset - 1)).toBeNull();
          // It wastes at most two batches' room: what fits in the rest is held.
          const largest = Math.max(...run.map((a) => a.bytes.length), ...nonEmpty.map((a) => a.bytes.length));
          let fits = 0;
          let k = nonEmpty.length;
          while (k > 0 && fits + nonEmpty[k - 1]!.bytes.length <= capacity - 2 * largest)
            fits += nonEmpty[--k]!.bytes.length;
          expect(oldest).toBeLessThanOrEqual(k);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives copies: bytes a reader holds survive the ring being overwritten', () => {
    const ring = new TailRing(1_000);
    ring.add(0, 1, Buffer.alloc(600, 1));
    const [copy] = [...ring.batchesFrom(0)!];
    ring.add(1, 2, Buffer.alloc(600, 2));
    ring.add(2, 3, Buffer.alloc(600, 3));
    expect(copy).toEqual(Buffer.alloc(600, 1));
    expect(ring.batchesFrom(0)).toBeNull();
    expect(readAll(ring, 2)).toEqual(Buffer.alloc(600, 3));
  });

  it('lets a reader resume after batches were added and the oldest dropped meanwhile', () => {
    const ring = new TailRing(1_000);
    ring.add(0, 1, Buffer.alloc(400, 1));
    ring.add(1, 2, Buffer.alloc(400, 2));
    const reader = ring.batchesFrom(0)!;
    expect(reader.next().value).toEqual(Buffer.alloc(400, 1));
    ring.add(2, 3, Buffer.alloc(400, 3)); // overwrites the first, not the second
    expect(reader.next().value).toEqual(Buffer.alloc(400, 2));
    expect(reader.next().done).toBe(true); // ends at what was held when it started
  });
});
