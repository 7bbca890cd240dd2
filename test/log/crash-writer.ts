/**
 * The crash test's writer: appends batches to an embedded log forever and prints `ack <sequence> <value>` for
 * each record once its append has resolved (i.e. once it is durable). The test kills it with SIGKILL.
 */
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';

const [root, runId] = process.argv.slice(2) as [string, string];
const log = await EmbeddedLog.open(root, { partitions: 3, segmentBytes: 64 * 1024 });
let n = 0;
process.stdout.write('ready\n');
for (;;) {
  const size = 1 + Math.floor(Math.random() * 50);
  const batch = Array.from({ length: size }, () => {
    const value = `${runId}-${n++}-${'x'.repeat(Math.floor(Math.random() * 300))}`;
    return { key: `c${Math.floor(Math.random() * 20)}`, value: Buffer.from(value), arrivalTime: Date.now() };
  });
  // Several appends in flight at once, as concurrent HTTP requests would be.
  const results = await Promise.all([
    log.append('payments', batch.slice(0, size >> 1)),
    log.append('payments', batch.slice(size >> 1)),
  ]);
  const acked = results.flat();
  const lines = acked.map(
    (r, i) => `ack ${r.sequence} ${batch[i]!.value.toString().split('-').slice(0, 2).join('-')}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
