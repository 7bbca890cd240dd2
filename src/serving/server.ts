/**
 * The HTTP server (fastify): ingest and dead letters for now (interface.md, "HTTP"). Bodies are read as text so
 * that a malformed event is dead-lettered with its reason, never answered with a 400 that loses it. Answers:
 * 200 with accepted / duplicates / rejected, 404 for an unknown stream (its payload kept in the project-wide
 * dead letters), 413 over the size limit, 429 with Retry-After when too much is waiting for the disk, 503 when
 * the log cannot write. Logs carry the route template, never a payload or a key.
 */

import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { UNKNOWN_STREAM } from '../contracts/dead-letters.js';
import type { SchemaRegistry } from '../contracts/registry.js';
import type { Plan } from '../definitions/plan.js';
import type { OnlineProcessor } from '../engine/online/processor.js';
import type { IngestItem, IngestResult, Intake } from '../ingest/intake.js';
import { forEachLine, isBlank } from '../ingest/ndjson.js';
import type { EmbeddedLog } from '../log/embedded/embedded-log.js';
import { LogError } from '../log/log.js';
import { ServerMetrics } from '../monitor/metrics.js';
import { type ApiKeys, allows } from './api-keys.js';
import { IdempotencyStore } from './idempotency.js';
import { readRoutes } from './read-routes.js';
import { schemaRegistryRoutes } from './schema-registry-api.js';

export interface ServerOptions {
  readonly plan: Plan;
  readonly log: EmbeddedLog;
  readonly intake: Intake;
  /** Largest request body, bytes (default 16 MiB). */
  readonly bodyLimit?: number;
  /** Events waiting for the disk beyond which ingest answers 429 (default 200,000). */
  readonly maxPendingEvents?: number;
  readonly now?: () => number;
  /** The schema registry served under /schema-registry/ (Confluent's API), when given. */
  readonly registry?: SchemaRegistry;
  /** The online processor: feature reads are served when given, and it is told of every acknowledged event. */
  readonly processor?: OnlineProcessor;
  /** API keys: when any is configured, every route but health and /docs needs a key with the right scope. */
  readonly apiKeys?: ApiKeys;
  /** pino options, or false (default) for no request logs. */
  readonly logger?: boolean | object;
}

/**
 * Splits an NDJSON body into items (byte ranges of the body: no string per line) with their line numbers;
 * blank lines hold no event.
 */
function ndjsonItems(body: Buffer): { items: IngestItem[]; lines: number[] } {
  const items: IngestItem[] = [];
  const lines: number[] = [];
  let line = 0;
  forEachLine(body, 0, body.length, true, (start, end) => {
    line++;
    if (isBlank(body, start, end)) return;
    items.push({ bytes: body, start, end });
    lines.push(line);
  });
  return { items, lines };
}

function storageError(reply: FastifyReply, error: unknown): FastifyReply | null {
  if (
    error instanceof LogError &&
    (error.code === 'TRIBUTARY_LOG_DISK_FULL' ||
      error.code === 'TRIBUTARY_LOG_WRITER_FAILED' ||
      error.code === 'TRIBUTARY_LOG_CLOSED')
  ) {
    return reply
      .code(503)
      .header('Retry-After', '5')
      .send({ error: 'storage unavailable', detail: error.message, code: error.code });
  }
  return null;
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { plan, intake, log } = options;
  const now = options.now ?? Date.now;
  const maxPending = options.maxPendingEvents ?? 200_000;
  let pending = 0;
  const idempotency = await IdempotencyStore.open(log, now());
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
    logger:
      options.logger === true || typeof options.logger === 'object'
        ? {
            ...(typeof options.logger === 'object' ? options.logger : {}),
            serializers: {
              // Keys in paths can be personal data: log the route template only.
              req: (req: { method: string; routeOptions?: { url?: string } }) => ({
                method: req.method,
                route: req.routeOptions?.url,
              }),
            },
          }
        : false,
  });
  // Bodies as text (NDJSON as bytes): a malformed event is the intake's to dead-letter, not fastify's to refuse.
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  app.addContentTypeParser(
    [
      'application/json',
      'text/plain',
      'application/vnd.schemaregistry.v1+json',
      'application/vnd.schemaregistry+json',
    ],
    { parseAs: 'string' },
    (_req, body, done) => done(null, body),
  );
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (error.statusCode === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        error: 'request too large',
        detail: `the limit is ${options.bodyLimit ?? 16 * 1024 * 1024} bytes: send smaller batches`,
      });
    }
    if (error.statusCode && error.statusCode < 500)
      return reply.code(error.statusCode).send({ error: error.message });
    return storageError(reply, error) ?? reply.code(500).send({ error: 'internal error' });
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Tributary',
        version: '1',
        description:
          'Ingest events, read feature vectors, inspect dead letters (docs/ingest.md, docs/serving.md)',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  const metrics = new ServerMetrics(options.processor);
  const apiKeys = options.apiKeys?.configured ? options.apiKeys : null;
  if (apiKeys) {
    app.addHook('onRequest', async (request, reply) => {
      const needed = scopeOf(request.routeOptions.url, request.params as Record<string, string>);
      if (needed === null) return;
      const header = request.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
      const key = token ? apiKeys.find(token) : null;
      if (!key)
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Bearer')
          .send({ error: token ? 'unknown API key' : 'send an API key: Authorization: Bearer <key>' });
      if (!allows(key, needed))
        return reply.code(403).send({ error: `the key \`${key.name}\` lacks the scope \`${needed}\`` });
    });
  }

  if (options.registry)
    await app.register(schemaRegistryRoutes(options.registry), { prefix: '/schema-registry' });

  app.get('/docs', { schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/metrics',
    { schema: { description: 'Prometheus exposition', tags: ['operations'] } },
    async (_request, reply) =>
      reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.get(
    '/healthz',
    { schema: { description: 'Liveness', tags: ['operations'], security: [] } },
    async () => ({ ok: true }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        description: 'Readiness: 503 while the online state is rebuilt from the log',
        tags: ['operations'],
        security: [],
      },
    },
    async (_request, reply) => {
      const status = options.processor?.status();
      if (status?.rebuilding)
        return reply
          .code(503)
          .send({ ready: false, rebuilding: true, behind: status.behind, plan: status.planHash });
      return { ready: true, ...(status ? { behind: status.behind, plan: status.planHash } : {}) };
    },
  );
  if (options.processor) await app.register(readRoutes(plan, options.processor, now, metrics));

  app.post<{ Params: { stream: string } }>(
    '/v1/streams/:stream/events',
    {
      schema: {
        description:
          'Ingest one JSON event, or NDJSON: 200 with accepted, duplicates and rejected (with reasons)',
        tags: ['ingest'],
      },
    },
    async (request, reply) => {
      const { stream } = request.params;
      const body = request.body;
      const { items, lines } = Buffer.isBuffer(body)
        ? ndjsonItems(body)
        : {
            items: [
              { text: typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body) },
            ],
            lines: [1],
          };
      if (pending + items.length > maxPending) {
        return reply
          .code(429)
          .header('Retry-After', '1')
          .send({ error: 'too many events waiting to be written; retry shortly' });
      }
      const ingest = async (): Promise<{ status: number; body: unknown }> => {
        pending += items.length;
        try {
          const result: IngestResult = await intake.ingest(stream, items, { lines });
          // For freshness only: a started processor was told by the log as soon as these records were durable.
          if (result.accepted && result.durableEnds)
            options.processor?.acknowledged(stream, result.durableEnds);
          metrics.eventsAccepted.inc({ stream }, result.accepted);
          if (result.duplicates) metrics.eventsDuplicate.inc({ stream }, result.duplicates);
          for (const r of result.rejected) metrics.eventsRejected.inc({ stream, reason: r.reason });
          if (result.unknownStream) {
            return {
              status: 404,
              body: {
                error: `unknown stream \`${stream}\``,
                streams: Object.keys(plan.streams),
                tables: Object.keys(plan.tables),
                deadLettered: items.length,
              },
            };
          }
          return {
            status: 200,
            body: { accepted: result.accepted, duplicates: result.duplicates, rejected: result.rejected },
          };
        } finally {
          pending -= items.length;
        }
      };
      try {
        const key = request.headers['idempotency-key'];
        if (typeof key === 'string' && key) {
          const answer = await idempotency.run(`${stream}\u0000${key}`, now(), ingest);
          if (answer.replayed) reply.header('Idempotent-Replayed', 'true');
          return reply.code(answer.status).send(answer.body);
        }
        const answer = await ingest();
        return reply.code(answer.status).send(answer.body);
      } catch (error) {
        const refused = storageError(reply, error);
        if (refused) return refused;
        throw error;
      }
    },
  );

  const knownDeadLetterStream = (stream: string) =>
    stream === UNKNOWN_STREAM || stream in plan.streams || stream in plan.tables;

  app.get<{ Params: { stream: string }; Querystring: { reason?: string; cursor?: string; limit?: string } }>(
    '/v1/streams/:stream/dead-letters',
    async (request, reply) => {
      const { stream } = request.params;
      if (!knownDeadLetterStream(stream))
        return reply
          .code(404)
          .send({ error: `unknown stream \`${stream}\``, streams: Object.keys(plan.streams) });
      const cursor = request.query.cursor === undefined ? undefined : Number(request.query.cursor);
      const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
      if (
        (cursor !== undefined && !(Number.isInteger(cursor) && cursor >= 0)) ||
        !(Number.isInteger(limit) && limit > 0 && limit <= 10_000)
      ) {
        return reply.code(400).send({ error: 'cursor must be a whole number ≥ 0 and limit from 1 to 10000' });
      }
      const page = await intake.deadLetters.list(stream, {
        limit,
        ...(cursor !== undefined ? { cursor } : {}),
        ...(request.query.reason ? { reason: request.query.reason } : {}),
      });
      const counts = Object.fromEntries(await intake.deadLetters.countsOf(stream));
      return { counts, deadLetters: page.letters, nextCursor: page.nextCursor };
    },
  );

  app.post<{ Params: { stream: string } }>(
    '/v1/streams/:stream/dead-letters/replay',
    async (request, reply) => {
      const { stream } = request.params;
      if (!knownDeadLetterStream(stream))
        return reply.code(404).send({ error: `unknown stream \`${stream}\`` });
      let reason: string | undefined;
      if (typeof request.body === 'string' && request.body.trim()) {
        try {
          reason = (JSON.parse(request.body) as { reason?: string }).reason;
        } catch {
          return reply
            .code(400)
            .send({ error: 'the body must be JSON such as {"reason": "schema_violation"}, or empty' });
        }
      }
      const { replayed, result } = await intake.replay(stream, reason ? { reason } : {});
      return {
        replayed,
        accepted: result.accepted,
        duplicates: result.duplicates,
        stillRejected: result.rejected,
      };
    },
  );

  return app;
}

/** The scope a route needs (null: open to all), from its template and parameters. */
function scopeOf(route: string | undefined, params: Readonly<Record<string, string>>): string | null {
  if (route === undefined || route === '/healthz' || route === '/readyz' || route === '/docs') return null;
  if (route === '/v1/streams/:stream/events') return `ingest:${params.stream}`;
  if (route.startsWith('/v1/views/:view/')) return `read:${params.view}`;
  return 'admin';
}
