/** Checkpoint files: the documented layout (TRIBCKP3, a v8 manifest, aligned raw columns), and loading it back. */
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import type { CoreSnapshot } from '../../src/engine/core/core.js';
import { type Checkpoint, CheckpointStore } from '../../src/state/checkpoint-store.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const counts = new Int32Array([2, 1, 0]);
const times = new Float64Array([1, 2.5, -0]);
const checkpoint: Checkpoint = {
  planHash: 'c32405a2f540b2c5',
  positions: { payments: [12, 0, 7, 3] },
  // The store does not look inside the snapshot: any structured-cloneable value with typed arrays stands for one.
  snapshot: {
    groups: {
      risk: {
        keyChars: new Uint16Array([...'c1c2ç3'].map((c) => c.charCodeAt(0))),
        keyLengths: new Int32Array([2, 2, 2]),
        counts,
        times,
        dictionary: ['a', 'b'],
      },
    },
  } as unknown as CoreSnapshot,
  watermarks: { payments: 1_790_000_000_000 },
  createdAt: 1_790_000_100_000,
};

describe('checkpoint store', () => {
  it('writes the documented layout and loads what it saved', async () => {
    const store = new CheckpointStore(join(dir, 'a'));
    const encoded = store.encode(checkpoint);
    expect(store.load()).toBeNull();
    await store.write(encoded);
    const file = join(dir, 'a', 'checkpoint.bin');
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(encoded.byteLength);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('TRIBCKP3');
    const manifestLength = bytes.readUInt32LE(8);
    expect(bytes.readUInt32LE(12)).toBe(0);
    // The manifest holds everything but the typed arrays' bytes: it is small.
    expect(manifestLength).toBeLessThan(serialize(checkpoint).length);
    // Then the columns in the manifest's order, each at a multiple of 8: key chars, key lengths, counts, times.
    let at = Math.ceil((16 + manifestLength) / 8) * 8;
    for (const column of [
      checkpoint.snapshot.groups.risk!.keyChars,
      checkpoint.snapshot.groups.risk!.keyLengths,
      counts,
      times,
    ]) {
      const raw = Buffer.from(column.buffer, column.byteOffset, column.byteLength);
      expect(bytes.subarray(at, at + raw.length).equals(raw)).toBe(true);
      at += Math.ceil(raw.length / 8) * 8;
    }
    expect(at).toBe(bytes.length);
    expect(store.load()).toEqual(checkpoint);
    expect(new CheckpointStore(join(dir, 'a')).load()).toEqual(checkpoint);
  });

  it('writes only the part of an array that a view shows, and loads the same (blocking save)', () => {
    const store = new CheckpointStore(join(dir, 'b'));
    const long = new Float64Array([9, 8, 7, 6, 5]);
    const withView = {
      ...checkpoint,
      watermarks: {},
      snapshot: { view: long.subarray(1, 3) } as unknown as CoreSnapshot,
    };
    const written = store.save(withView);
    expect(statSync(join(dir, 'b', 'checkpoint.bin')).size).toBe(written);
    const loaded = store.load()!;
    expect((loaded.snapshot as unknown as { view: Float64Array }).view).toEqual(new Float64Array([8, 7]));
  });

  it('ignores a file cut short and one of the previous layout: the state is rebuilt from the log', () => {
    const store = new CheckpointStore(join(dir, 'c'));
    const written = store.save(checkpoint);
    const file = join(dir, 'c', 'checkpoint.bin');
    truncateSync(file, written - 8);
    expect(store.load()).toBeNull();
    writeFileSync(file, Buffer.concat([Buffer.from('TRIBCKP2'), serialize(checkpoint)]));
    expect(store.load()).toBeNull();
  });
});
