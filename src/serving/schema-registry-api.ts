/**
 * The Confluent Schema Registry REST API (the subset clients use) over the embedded registry, mounted under
 * `/schema-registry/`: subjects and versions, schemas by id, lookup, compatibility checks, config. Errors use
 * Confluent's shape `{ error_code, message }` and codes (40401 subject, 40402 version, 40403 schema, 409
 * incompatible, 42201 invalid schema, 42203 invalid compatibility level).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SchemaType } from '../contracts/compatibility.js';
import { IncompatibleSchemaError, type SchemaRegistry } from '../contracts/registry.js';
import { COMPATIBILITIES, type Compatibility } from '../definitions/plan.js';

const MODES: readonly Compatibility[] = COMPATIBILITIES;
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

const fail = (reply: FastifyReply, status: number, errorCode: number, message: string) =>
  reply.code(status).type(CONTENT_TYPE).send({ error_code: errorCode, message });

function bodyOf(body: unknown): Record<string, unknown> | null {
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as unknown;
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
}

/** The schema of a request body: `{ schema: "<json text>", schemaType? }` (AVRO when absent, as Confluent). */
function schemaOf(body: unknown): { type: SchemaType; schema: unknown } | string {
  const parsed = bodyOf(body);
  if (!parsed || typeof parsed.schema !== 'string')
    return 'the body must be {"schema": "<schema as a JSON string>", "schemaType": "AVRO" | "JSON"}';
  const type = (parsed.schemaType ?? 'AVRO') as string;
  if (type !== 'AVRO' && type !== 'JSON')
    return `schemaType ${type} is not supported here (AVRO and JSON are)`;
  try {
    return { type, schema: JSON.parse(parsed.schema) };
  } catch (error) {
    return `the schema is not JSON: ${(error as Error).message}`;
  }
}

function versionOf(text: string): number | 'latest' | null {
  if (text === 'latest' || text === '-1') return 'latest';
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 ? n : null;
}

export function schemaRegistryRoutes(registry: SchemaRegistry) {
  return async (app: FastifyInstance) => {
    const present = (schema: {
      subject: string;
      version: number;
      id: number;
      type: SchemaType;
      schema: unknown;
    }) => ({
      subject: schema.subject,
      version: schema.version,
      id: schema.id,
      schema: JSON.stringify(schema.schema),
      ...(schema.type === 'AVRO' ? {} : { schemaType: schema.type }),
    });
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.header('content-type', CONTENT_TYPE);
      return payload;
    });

    app.get('/subjects', async () => registry.subjects());

    app.get<{ Params: { subject: string } }>('/subjects/:subject/versions', async (request, reply) => {
      const versions = registry.versions(request.params.subject);
      return versions?.length
        ? versions
        : fail(reply, 404, 40401, `Subject '${request.params.subject}' not found.`);
    });

    app.get<{ Params: { subject: string; version: string } }>(
      '/subjects/:subject/versions/:version',
      async (request, reply) => {
        const version = versionOf(request.params.version);
        if (version === null)
          return fail(reply, 422, 42202, 'The specified version is not a valid version id.');
        if (!registry.versions(request.params.subject)?.length)
          return fail(reply, 404, 40401, `Subject '${request.params.subject}' not found.`);
        const found = registry.get(request.params.subject, version);
        return found
          ? present(found)
          : fail(reply, 404, 40402, `Version ${request.params.version} not found.`);
      },
    );

    app.get<{ Params: { subject: string; version: string } }>(
      '/subjects/:subject/versions/:version/schema',
      async (request, reply) => {
        const version = versionOf(request.params.version);
        const found = version === null ? undefined : registry.get(request.params.subject, version);
        return found ? found.schema : fail(reply, 404, 40402, `Version ${request.params.version} not found.`);
      },
    );

    app.post<{ Params: { subject: string } }>('/subjects/:subject/versions', async (request, reply) => {
      const schema = schemaOf(request.body);
      if (typeof schema === 'string') return fail(reply, 422, 42201, schema);
      try {
        return { id: registry.register(request.params.subject, schema.type, schema.schema).id };
      } catch (error) {
        if (error instanceof IncompatibleSchemaError) {
          return fail(
            reply,
            409,
            409,
            `Schema being registered is incompatible with an earlier schema for subject "${request.params.subject}": ${error.problems.join('; ')}`,
          );
        }
        return fail(reply, 422, 42201, `Invalid schema: ${(error as Error).message}`);
      }
    });

    app.post<{ Params: { subject: string } }>('/subjects/:subject', async (request, reply) => {
      const schema = schemaOf(request.body);
      if (typeof schema === 'string') return fail(reply, 422, 42201, schema);
      if (!registry.versions(request.params.subject)?.length)
        return fail(reply, 404, 40401, `Subject '${request.params.subject}' not found.`);
      const found = registry.lookup(request.params.subject, schema.type, schema.schema);
      return found ? present(found) : fail(reply, 404, 40403, 'Schema not found');
    });

    app.get<{ Params: { id: string } }>('/schemas/ids/:id', async (request, reply) => {
      const found = registry.byId(Number(request.params.id));
      if (!found) return fail(reply, 404, 40403, 'Schema not found');
      return {
        schema: JSON.stringify(found.schema),
        ...(found.type === 'AVRO' ? {} : { schemaType: found.type }),
      };
    });

    app.post<{ Params: { subject: string; version: string } }>(
      '/compatibility/subjects/:subject/versions/:version',
      async (request, reply) => {
        const schema = schemaOf(request.body);
        if (typeof schema === 'string') return fail(reply, 422, 42201, schema);
        const version = versionOf(request.params.version);
        if (version === null)
          return fail(reply, 422, 42202, 'The specified version is not a valid version id.');
        const problems = registry.check(request.params.subject, schema.type, schema.schema, version);
        return { is_compatible: problems.length === 0, ...(problems.length ? { messages: problems } : {}) };
      },
    );

    const config = (subject?: string) => ({ compatibilityLevel: registry.compatibility(subject) });
    app.get('/config', async () => config());
    app.get<{ Params: { subject: string } }>('/config/:subject', async (request) =>
      config(request.params.subject),
    );
    const setConfig = (subject?: string) => async (request: { body: unknown }, reply: FastifyReply) => {
      const mode = bodyOf(request.body)?.compatibility as Compatibility;
      if (!MODES.includes(mode))
        return fail(reply, 422, 42203, `Invalid compatibility level; use one of ${MODES.join(', ')}`);
      registry.setCompatibility(mode, subject);
      return { compatibility: mode };
    };
    app.put('/config', (request, reply) => setConfig()(request, reply));
    app.put<{ Params: { subject: string } }>('/config/:subject', (request, reply) =>
      setConfig(request.params.subject)(request, reply),
    );
  };
}
