/**
 * The ingest benchmark's floor: a bare fastify server, in its own process, that takes an NDJSON body and answers
 * only once the body is durable, written as the log writes (O_DSYNC, split over 4 appended files side by side),
 * with no validation, de-duplication or record layout. Loaded exactly like the real server, it shows what this
 * machine's HTTP stack, disk and load generator cost on their own. Prints one JSON line when ready: the port.
 */
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Fastify from 'fastify';
import { SYNC_ON_WRITE, WRITE_FLAGS } from '../../src/log/embedded/partition.js';

const PARTITIONS = 4;
const dir = mkdtempSync(join(process.argv[2]!, 'bare-'));
const paths = Array.from({ length: PARTITIONS }, (_, i) => join(dir, `p${i}.log`));
for (const path of paths) closeSync(openSync(path, 'w'));
const files = await Promise.all(paths.map((path) => open(path, WRITE_FLAGS)));
const positions = new Array<number>(PARTITIONS).fill(0);

const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, (_req, body, done) =>
  done(null, body),
);
app.post('/v1/streams/:stream/events', async (request) => {
  const body = request.body as Buffer;
  const share = Math.ceil(body.length / PARTITIONS);
  await Promise.all(
    files.map(async (file, i) => {
      const start = Math.min(body.length, i * share);
      const length = Math.min(body.length, start + share) - start;
      const at = positions[i]!;
      positions[i] = at + length;
      await file.write(body, start, length, at);
      if (!SYNC_ON_WRITE) await file.datasync();
    }),
  );
  return { durableBytes: body.length };
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as AddressInfo).port })}\n`);
