/**
 * The ingest benchmark's floor: a bare fastify server, in its own process, that takes an NDJSON body and answers
 * only once the body is durable, written as the log writes (O_DSYNC, split over 4 appended files side by side),
 * with no validation, de-duplication or record layout. Loaded exactly like the real server, it shows what this
 * machine's HTTP stack, disk and load generator cost on their own. Prints one JSON line when ready: the port.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { DurableFiles } from './disk-floor.js';

const files = await DurableFiles.open(process.argv[2]!, 4);
const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, (_req, body, done) =>
  done(null, body),
);
app.post('/v1/streams/:stream/events', async (request) => {
  const body = request.body as Buffer;
  await files.append(body);
  return { durableBytes: body.length };
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as AddressInfo).port })}\n`);
