/**
 * The disk's own share of an acknowledgement: the p99 time of durable writes as the log makes them (O_DSYNC, one
 * write per partition in parallel, appended), at the steady phase's rate and batch size, with no server at all.
 * An acknowledgement cannot be faster than this, so `ack_p99_ms` is read against it. `DurableFiles` also backs
 * the bare server of the floor for acknowledgements (bare-server.ts).
 */
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { SYNC_ON_WRITE, WRITE_FLAGS } from '../../src/log/embedded/partition.js';

/** Files side by side in a fresh folder of `root`, opened as the log opens its segments. */
export class DurableFiles {
  private readonly positions: number[];

  private constructor(
    readonly dir: string,
    private readonly files: FileHandle[],
  ) {
    this.positions = files.map(() => 0);
  }

  static async open(root: string, count: number): Promise<DurableFiles> {
    const dir = mkdtempSync(join(root, 'durable-'));
    const paths = Array.from({ length: count }, (_, i) => join(dir, `p${i}.log`));
    for (const path of paths) closeSync(openSync(path, 'w'));
    return new DurableFiles(dir, await Promise.all(paths.map((path) => open(path, WRITE_FLAGS))));
  }

  /** Appends `data` split in equal shares over the files, in parallel; resolves once all of it is durable. */
  async append(data: Buffer): Promise<void> {
    const share = Math.ceil(data.length / this.files.length);
    await Promise.all(
      this.files.map(async (file, i) => {
        const start = Math.min(data.length, i * share);
        const length = Math.min(data.length, start + share) - start;
        const at = this.positions[i]!;
        this.positions[i] = at + length;
        await file.write(data, start, length, at);
        if (!SYNC_ON_WRITE) await file.datasync();
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((file) => file.close()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function diskSyncLatencies(
  root: string,
  partitions: number,
  batchBytes: number,
  batchesPerSecond: number,
  seconds: number,
): Promise<number[]> {
  const files = await DurableFiles.open(root, partitions);
  const batch = Buffer.alloc(batchBytes, 0x7b);
  const latencies: number[] = [];
  const interval = 1000 / batchesPerSecond;
  const total = Math.round(batchesPerSecond * seconds);
  const t0 = performance.now();
  try {
    for (let k = 0; k < total; k++) {
      const wait = t0 + k * interval - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const begin = performance.now();
      await files.append(batch);
      latencies.push(performance.now() - begin);
    }
  } finally {
    await files.close();
  }
  return latencies;
}
