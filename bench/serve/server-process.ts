/**
 * The serve benchmark's server, in its own process: opens the benchmark's log, builds the online state from it
 * (timed: log → state), then serves over HTTP. Prints one JSON line when ready: port, apply time, RSS and the
 * latest event time. POST /bench/checkpoint writes a checkpoint (next to the log, in `serve-checkpoint`, removed
 * at start so that the state is built from the log) and answers how long it took, its size and the event loop's
 * longest delay meanwhile.
 */
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { compileYaml } from '../../src/definitions/yaml.js';
import { OnlineProcessor } from '../../src/engine/online/processor.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { buildServer } from '../../src/serving/server.js';
import { CheckpointStore } from '../../src/state/checkpoint-store.js';
import { FRAUD20_YAML } from '../fraud20.js';

const compiled = compileYaml(FRAUD20_YAML);
if (!compiled.ok) throw new Error('fraud20');
const plan = compiled.plan;
const log = await EmbeddedLog.open(process.argv[2]!);
const checkpointDir = join(process.argv[2]!, '..', 'serve-checkpoint');
rmSync(checkpointDir, { recursive: true, force: true });
const processor = await OnlineProcessor.open({ plan, log, checkpoints: new CheckpointStore(checkpointDir) });
const begin = performance.now();
await processor.catchUp();
const applySeconds = (performance.now() - begin) / 1000;
const applied = processor.status().applied;
global.gc?.();
const rss = process.memoryUsage().rss;
processor.start();
const app = await buildServer({
  plan,
  log,
  intake: await Intake.open(plan, log, { dedupeHorizonMs: 0 }),
  processor,
});
app.post('/bench/checkpoint', async () => {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const begin = performance.now();
  const bytes = await processor.checkpoint();
  const seconds = (performance.now() - begin) / 1000;
  delay.disable();
  return { bytes, seconds, eventLoopMaxMs: delay.max / 1e6 };
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(
  `${JSON.stringify({
    port: (app.server.address() as AddressInfo).port,
    applySeconds,
    applied,
    rss,
    latestEventTime: processor.watermark('fraud20'),
  })}\n`,
);
