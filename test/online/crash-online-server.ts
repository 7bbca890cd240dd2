/**
 * The online crash test's server: ingest, the online processor (checkpointing every 20 ms, so that kills land
 * before, during and after checkpoints) and feature reads, over a log folder and a state folder; prints its port.
 */
import type { AddressInfo } from 'node:net';
import { compileYaml } from '../../src/definitions/yaml.js';
import { OnlineProcessor } from '../../src/engine/online/processor.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { buildServer } from '../../src/serving/server.js';
import { CheckpointStore } from '../../src/state/checkpoint-store.js';
import { RISK_YAML } from '../fixtures/risk.js';

const compiled = compileYaml(RISK_YAML);
if (!compiled.ok) throw new Error('fixture');
const plan = compiled.plan;
const log = await EmbeddedLog.open(process.argv[2]!, { segmentBytes: 256 * 1024 });
const processor = await OnlineProcessor.open({
  plan,
  log,
  checkpoints: new CheckpointStore(process.argv[3]!),
});
const app = await buildServer({ plan, log, intake: await Intake.open(plan, log), processor });
processor.start();
void processor.catchUp();
setInterval(() => void processor.checkpoint().catch(() => {}), 20);
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`ready ${(app.server.address() as AddressInfo).port}\n`);
