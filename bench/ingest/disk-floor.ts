/**
 * The disk's own share of an acknowledgement: the p99 time of durable writes as the log makes them (O_DSYNC, one
 * write per partition in parallel, appended), at the steady phase's rate and batch size, with no server at all.
 * An acknowledgement cannot be faster than this, so `ack_p99_ms` is read against it.
 */
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { SYNC_ON_WRITE, WRITE_FLAGS } from '../../src/log/embedded/partition.js';

export async function diskSyncLatencies(
  root: string,
  partitions: number,
  batchBytes: number,
  batchesPerSecond: number,
  seconds: number,
): Promise<number[]> {
  const dir = mkdtempSync(join(root, 'disk-floor-'));
  const paths = Array.from({ length: partitions }, (_, i) => join(dir, `p${i}.log`));
  for (const path of paths) closeSync(openSync(path, 'w'));
  const files = await Promise.all(paths.map((path) => open(path, WRITE_FLAGS)));
  const share = Buffer.alloc(Math.ceil(batchBytes / partitions), 0x7b);
  const positions = new Array<number>(partitions).fill(0);
  const latencies: number[] = [];
  const interval = 1000 / batchesPerSecond;
  const total = Math.round(batchesPerSecond * seconds);
  const t0 = performance.now();
  try {
    for (let k = 0; k < total; k++) {
      const wait = t0 + k * interval - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const begin = performance.now();
      await Promise.all(
        files.map(async (file, i) => {
          await file.write(share, 0, share.length, positions[i]);
          if (!SYNC_ON_WRITE) await file.datasync();
          positions[i]! += share.length;
        }),
      );
      latencies.push(performance.now() - begin);
    }
  } finally {
    await Promise.all(files.map((file) => file.close()));
    rmSync(dir, { recursive: true, force: true });
  }
  return latencies;
}
