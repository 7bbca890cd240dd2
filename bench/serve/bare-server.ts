/**
 * The serve benchmark's floor: a bare fastify server, in its own process, answering GET /v1/views/:view/:key with
 * a fixed fraud20-sized vector. Loaded exactly like the real server, it shows what this machine's HTTP stack and
 * load generator cost on their own. Prints one JSON line when ready: the port.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';

const features = Object.fromEntries(
  Array.from({ length: 20 }, (_, i) => [`feature_${String(i).padStart(2, '0')}`, 1234.5678 * (i + 1)]),
);
const app = Fastify();
app.get<{ Params: { view: string; key: string } }>('/v1/views/:view/:key', async (request) => ({
  view: request.params.view,
  keys: { customer: request.params.key },
  at: Date.now(),
  features,
}));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ port: (app.server.address() as AddressInfo).port })}\n`);
