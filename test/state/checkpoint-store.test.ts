/** Checkpoint files: the documented layout (TRIBCKP2, then v8.serialize of the checkpoint), and loading it back. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import type { CoreSnapshot } from '../../src/engine/core/core.js';
import { type Checkpoint, CheckpointStore } from '../../src/state/checkpoint-store.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const checkpoint: Checkpoint = {
  planHash: 'c32405a2f540b2c5',
  positions: { payments: [12, 0, 7, 3] },
  // The store does not look inside the snapshot: any structured-cloneable value with typed arrays stands for one.
  snapshot: {
    groups: {
      risk: {
        keys: ['c1', 'c2', 'ç3'],
        counts: new Int32Array([2, 1, 0]),
        times: new Float64Array([1, 2.5, -0]),
      },
    },
  } as unknown as CoreSnapshot,
  watermarks: { payments: 1_790_000_000_000 },
  createdAt: 1_790_000_100_000,
};

describe('checkpoint store', () => {
  it('encodes TRIBCKP2 then v8.serialize of the checkpoint, and loads what it saved', async () => {
    const store = new CheckpointStore(join(dir, 'a'));
    const bytes = store.encode(checkpoint);
    expect(bytes.equals(Buffer.concat([Buffer.from('TRIBCKP2'), serialize(checkpoint)]))).toBe(true);
    expect(store.load()).toBeNull();
    await store.write(bytes);
    expect(store.load()).toEqual(checkpoint);
    expect(new CheckpointStore(join(dir, 'a')).load()).toEqual(checkpoint);
  });
});
