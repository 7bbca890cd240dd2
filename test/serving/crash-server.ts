/** The HTTP crash test's server: the intake and HTTP ingest over a log folder, on a free port it prints. */
import type { AddressInfo } from 'node:net';
import { compileYaml } from '../../src/definitions/yaml.js';
import { DEMO_DEFINITIONS } from '../../src/demo/payments.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { buildServer } from '../../src/serving/server.js';

const compiled = compileYaml(DEMO_DEFINITIONS);
if (!compiled.ok) throw new Error('demo definitions');
const log = await EmbeddedLog.open(process.argv[2]!, { segmentBytes: 256 * 1024 });
const app = await buildServer({ plan: compiled.plan, log, intake: await Intake.open(compiled.plan, log) });
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`ready ${(app.server.address() as AddressInfo).port}\n`);
