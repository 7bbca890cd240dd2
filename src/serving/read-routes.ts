/**
 * Feature reads over HTTP (interface.md): `GET /v1/views/:view/:key?at=&consistent=` for a one-entity view, and
 * `POST /v1/views/:view/batch` for many rows (keys per entity, `at`, request inputs). A key never seen gets the
 * empty-window values; an unknown view is a 404 naming the views; a malformed `at` is a 400, and an `at` before
 * the view's online horizon is a 400 that points to `tributary backfill`. `consistent=true` waits until every
 * event acknowledged before the read is applied.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normaliseTime } from '../contracts/time.js';
import type { Plan } from '../definitions/plan.js';
import { EvictedRangeError } from '../engine/core/group-engine.js';
import { keyString } from '../engine/core/keys.js';
import type { Vector, ViewEngine } from '../engine/core/view-engine.js';
import { HorizonError, type OnlineProcessor, RebuildingError } from '../engine/online/processor.js';
import type { ServerMetrics } from '../monitor/metrics.js';
import { type AnswerJson, compileAnswerJson } from './vector-json.js';

/** What fastify sends for an object: the same for an answer written as text. */
const JSON_TYPE = 'application/json; charset=utf-8';

export interface VectorAnswer {
  readonly view: string;
  readonly keys: Readonly<Record<string, string>>;
  readonly at: number;
  readonly features: Vector;
}

class BadRequest extends Error {}

/** `at` as epoch ms: digits are epoch ms, anything else must be ISO-8601 with an offset. */
export function parseAt(value: unknown, now: number): number {
  if (value === undefined || value === null || value === '') return now;
  if (typeof value === 'string') {
    const ms = plainEpochMs(value);
    if (ms >= 0) return ms;
  }
  const raw = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  const parsed = normaliseTime(raw, 'at');
  if (typeof parsed !== 'number') throw new BadRequest(parsed.detail);
  return parsed;
}

/**
 * Up to 15 plain digits as a number, else -1: the form every read of the serve benchmark sends, parsed without
 * the trim, regular expression and general time normalisation (~1 µs of a GET under load) that parseAt's other
 * forms need.
 */
function plainEpochMs(value: string): number {
  if (value.length > 15) return -1;
  let ms = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    ms = ms * 10 + digit;
  }
  return ms;
}

function unknownView(reply: FastifyReply, plan: Plan, view: string) {
  return reply.code(404).send({ error: `unknown view \`${view}\``, views: Object.keys(plan.views) });
}

function refusal(reply: FastifyReply, error: unknown): FastifyReply | null {
  if (error instanceof BadRequest || error instanceof HorizonError || error instanceof EvictedRangeError)
    return reply.code(400).send({ error: error.message });
  if (error instanceof RebuildingError)
    return reply.code(503).header('Retry-After', '1').send({ error: error.message });
  return null;
}

export function readRoutes(
  plan: Plan,
  processor: OnlineProcessor,
  now: () => number,
  metrics: ServerMetrics,
) {
  /**
   * The read-latency histogram's hook, on the read routes only: a callback, not an async function (no promise per
   * request), and the route template a constant rather than looked up per request.
   */
  const timed =
    (route: string) =>
    (_request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      metrics.readLatency.observe(route, reply.elapsedTime / 1000);
      done();
    };

  const answer = (
    view: string,
    keys: Record<string, string>,
    at: number,
    request?: Record<string, unknown>,
  ): VectorAnswer => ({
    view,
    keys,
    at,
    features: processor.read(view, keys, at, request),
  });

  /** Each view engine's compiled answer writer (null: the view's names need JSON.stringify). */
  const answerJson = new WeakMap<ViewEngine, AnswerJson | null>();
  const answerJsonOf = (view: string, entity: string): AnswerJson | null => {
    const engine = processor.core.view(view);
    let writer = answerJson.get(engine);
    if (writer === undefined)
      answerJson.set(engine, (writer = compileAnswerJson(view, entity, engine.vectorNames)));
    return writer;
  };

  return async (app: FastifyInstance) => {
    app.get<{ Params: { view: string; key: string }; Querystring: { at?: string; consistent?: string } }>(
      '/v1/views/:view/:key',
      {
        onResponse: timed('/v1/views/:view/:key'),
        schema: {
          description:
            'One feature vector of a one-entity view; at = epoch ms or ISO-8601 (default now); consistent=true waits for everything acknowledged',
          tags: ['features'],
        },
      },
      async (request, reply) => {
        const { view, key } = request.params;
        const viewPlan = plan.views[view];
        if (!viewPlan) return unknownView(reply, plan, view);
        if (viewPlan.entities.length !== 1)
          return reply.code(400).send({
            error: `view \`${view}\` has entities ${viewPlan.entities.join(', ')}: read it with POST /v1/views/${view}/batch and a key per entity`,
          });
        try {
          const at = parseAt(request.query.at, now());
          if (request.query.consistent === 'true') await processor.catchUp();
          const entity = viewPlan.entities[0]!;
          const features = processor.read(view, { [entity]: key }, at);
          const json = answerJsonOf(view, entity)?.(key, at, features);
          // Returned, not sent: an async handler that returns `reply` makes fastify wait for the response's end
          // through a promise and stream listeners per request (+6–8 µs of CPU per GET, measured).
          if (json != null) {
            reply.type(JSON_TYPE);
            return json;
          }
          return { view, keys: { [entity]: key }, at, features } satisfies VectorAnswer;
        } catch (error) {
          const refused = refusal(reply, error);
          if (refused) return refused;
          throw error;
        }
      },
    );

    app.post<{ Params: { view: string } }>(
      '/v1/views/:view/batch',
      {
        onResponse: timed('/v1/views/:view/batch'),
        schema: {
          description:
            'Vectors for many rows: { rows: [ { keys, at, request } ], consistent } → { vectors } in row order',
          tags: ['features'],
        },
      },
      async (request, reply) => {
        const { view } = request.params;
        const viewPlan = plan.views[view];
        if (!viewPlan) return unknownView(reply, plan, view);
        let body: { rows?: unknown; consistent?: unknown };
        try {
          body = JSON.parse(
            typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? null),
          );
        } catch (error) {
          return reply.code(400).send({ error: `the body is not JSON: ${(error as Error).message}` });
        }
        if (!body || !Array.isArray(body.rows))
          return reply.code(400).send({
            error:
              'the body must be { "rows": [ { "keys": { … }, "at": …, "request": { … } } ], "consistent": false }',
          });
        try {
          const time = now();
          const rows = body.rows.map((row: unknown, i) => {
            const r = (row ?? {}) as { keys?: Record<string, unknown>; at?: unknown; request?: unknown };
            const keys: Record<string, string> = {};
            for (const entity of viewPlan.entities) {
              const key = keyString(r.keys?.[entity]);
              if (key === null)
                throw new BadRequest(
                  `rows[${i}]: keys.${entity} is missing (the view's entities: ${viewPlan.entities.join(', ')})`,
                );
              keys[entity] = key;
            }
            let at: number;
            try {
              at = parseAt(r.at, time);
            } catch (error) {
              throw new BadRequest(`rows[${i}]: ${(error as Error).message}`);
            }
            if (
              r.request !== undefined &&
              (typeof r.request !== 'object' || r.request === null || Array.isArray(r.request))
            )
              throw new BadRequest(`rows[${i}]: request must be an object of the view's request inputs`);
            return { keys, at, request: r.request as Record<string, unknown> | undefined };
          });
          if (body.consistent === true) await processor.catchUp();
          return { vectors: rows.map((r) => answer(view, r.keys, r.at, r.request)) };
        } catch (error) {
          const refused = refusal(reply, error);
          if (refused) return refused;
          throw error;
        }
      },
    );
  };
}
