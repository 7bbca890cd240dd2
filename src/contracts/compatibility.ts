/**
 * Schema compatibility, as Confluent Schema Registry defines the modes: BACKWARD (consumers using the new schema
 * can read data written with the old), FORWARD (consumers using the old schema can read data written with the
 * new), FULL (both); *_TRANSITIVE checks every earlier version instead of the latest only; NONE checks nothing.
 *
 * Avro follows Avro's schema-resolution rules (avsc's resolver). JSON Schema follows the rules written in
 * docs/schemas.md, which mind the open/closed content model: "can the new schema read old data" means "is every
 * document valid under the old schema valid under the new one".
 */
import avro from 'avsc';
import type { Compatibility } from '../definitions/plan.js';

export type SchemaType = 'JSON' | 'AVRO';

export interface SchemaVersion {
  readonly schema: unknown;
  readonly type: SchemaType;
}

/** An Avro record schema, or else a JSON Schema (how `tributary.yaml` tells them apart: `avro:` holds a record). */
export function schemaTypeOf(schema: unknown): SchemaType {
  return typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'record'
    ? 'AVRO'
    : 'JSON';
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON Schema `type` as a set ("integer" is a "number"; no `type` = anything). */
function typesOf(schema: unknown): Set<string> | null {
  if (!isObject(schema) || schema.type === undefined) return null;
  return new Set([schema.type].flat().map(String));
}

function typeCovers(wider: Set<string> | null, narrower: Set<string> | null): boolean {
  if (wider === null) return true;
  if (narrower === null) return false;
  for (const t of narrower) if (!wider.has(t) && !(t === 'integer' && wider.has('number'))) return false;
  return true;
}

/**
 * Why documents valid under `writer` may be invalid under `reader` (empty when every such document is valid).
 * Object schemas are compared property by property; anything else must be unchanged.
 */
export function jsonSchemaReadProblems(reader: unknown, writer: unknown, path = ''): string[] {
  const at = path || 'the event';
  if (JSON.stringify(reader) === JSON.stringify(writer)) return [];
  const readerTypes = typesOf(reader);
  const writerTypes = typesOf(writer);
  if (!typeCovers(readerTypes, writerTypes)) {
    return [
      `${at}: type ${JSON.stringify([...(readerTypes ?? [])])} does not accept ${writerTypes ? JSON.stringify([...writerTypes]) : 'any value'} written before`,
    ];
  }
  if (!isObject(reader) || !isObject(writer)) return [];
  const problems: string[] = [];
  const readerProps = isObject(reader.properties) ? reader.properties : {};
  const writerProps = isObject(writer.properties) ? writer.properties : {};
  const readerOpen = reader.additionalProperties !== false;
  const writerOpen = writer.additionalProperties !== false;
  const writerRequired = new Set(Array.isArray(writer.required) ? writer.required.map(String) : []);
  for (const name of Array.isArray(reader.required) ? reader.required.map(String) : []) {
    if (!writerRequired.has(name))
      problems.push(`${path ? `${path}.` : ''}${name}: now required, but data written before may lack it`);
  }
  for (const [name, writerProp] of Object.entries(writerProps)) {
    const child = path ? `${path}.${name}` : name;
    if (name in readerProps) problems.push(...jsonSchemaReadProblems(readerProps[name], writerProp, child));
    else if (!readerOpen)
      problems.push(
        `${child}: removed from a closed content model (additionalProperties: false), but data written before may carry it`,
      );
  }
  for (const [name, readerProp] of Object.entries(readerProps)) {
    if (name in writerProps || !writerOpen) continue;
    // The writer was open: its documents may already carry this name with any value.
    if (typesOf(readerProp) !== null) {
      problems.push(
        `${path ? `${path}.` : ''}${name}: added with a type to an open content model, where data written before may hold any value under that name`,
      );
    }
  }
  if (writerOpen && !readerOpen)
    problems.push(
      `${at}: closed (additionalProperties: false), but data written before may carry other fields`,
    );
  return problems;
}

function avroReadProblems(reader: unknown, writer: unknown): string[] {
  try {
    avro.Type.forSchema(reader as avro.Schema).createResolver(avro.Type.forSchema(writer as avro.Schema));
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

/** Why a consumer with `reader` cannot read data written with `writer` (empty when it can). */
export function readProblems(reader: SchemaVersion, writer: SchemaVersion): string[] {
  if (reader.type !== writer.type) return [`the schema type changed from ${writer.type} to ${reader.type}`];
  return reader.type === 'AVRO'
    ? avroReadProblems(reader.schema, writer.schema)
    : jsonSchemaReadProblems(reader.schema, writer.schema);
}

/** Why `candidate` may not follow `previous` (oldest first) under `mode`; empty when it may. */
export function compatibilityProblems(
  mode: Compatibility,
  candidate: SchemaVersion,
  previous: readonly SchemaVersion[],
): string[] {
  if (mode === 'NONE' || previous.length === 0) return [];
  const against = mode.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = mode.startsWith('BACKWARD') || mode.startsWith('FULL');
  const forward = mode.startsWith('FORWARD') || mode.startsWith('FULL');
  const problems: string[] = [];
  against.forEach((old) => {
    const version = previous.indexOf(old) + 1;
    if (backward)
      for (const p of readProblems(candidate, old))
        problems.push(`backward (reading version ${version}): ${p}`);
    if (forward)
      for (const p of readProblems(old, candidate))
        problems.push(`forward (version ${version} reading new data): ${p}`);
  });
  return problems;
}
