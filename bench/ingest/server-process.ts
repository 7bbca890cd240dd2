/**
 * The ingest benchmark's server, in its own process (as in production, and apart from the file phase's heap):
 * the demo definitions' intake over a fresh log in `argv[2]`, served over HTTP. Prints `{ port }` when ready.
 */
import type { AddressInfo } from 'node:net';
import { compileYaml } from '../../src/definitions/yaml.js';
import { DEMO_DEFINITIONS } from '../../src/demo/payments.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { buildServer } from '../../src/serving/server.js';

const compiled = compileYaml(DEMO_DEFINITIONS);
if (!compiled.ok) throw new Error('demo definitions');
const plan = compiled.plan;
const log = await EmbeddedLog.open(process.argv[2]!);
const app = await buildServer({ plan, log, intake: await Intake.open(plan, log) });
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as AddressInfo).port })}\n`);
const stop = async () => {
  await app.close();
  await log.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
