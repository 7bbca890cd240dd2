import type { FieldPlan, ValueType } from './plan.js';

const JSON_TYPES: Readonly<Record<string, ValueType>> = {
  number: 'double',
  integer: 'double',
  string: 'string',
  boolean: 'bool',
};

/** The top-level fields of a JSON Schema object (type from `type`; nullable unless required and non-null). */
export function fieldsOfJsonSchema(schema: unknown): FieldPlan[] | null {
  if (!isObject(schema) || !isObject(schema.properties)) return null;
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return Object.entries(schema.properties).map(([name, property]) => {
    const types = isObject(property)
      ? [property.type].flat().filter((t): t is string => typeof t === 'string')
      : [];
    const valueTypes = new Set(types.filter((t) => t !== 'null').map((t) => JSON_TYPES[t] ?? 'any'));
    const type: ValueType = valueTypes.size === 1 ? [...valueTypes][0]! : 'any';
    const description =
      isObject(property) && typeof property.description === 'string' ? property.description : undefined;
    return {
      name,
      type,
      nullable: !required.has(name) || types.includes('null') || types.length === 0,
      description,
    };
  });
}

const AVRO_TYPES: Readonly<Record<string, ValueType>> = {
  double: 'double',
  float: 'double',
  int: 'double',
  long: 'double',
  string: 'string',
  boolean: 'bool',
};

/** The fields of an Avro record schema; a union with "null" is nullable. */
export function fieldsOfAvroSchema(schema: unknown): FieldPlan[] | null {
  if (!isObject(schema) || schema.type !== 'record' || !Array.isArray(schema.fields)) return null;
  return schema.fields.filter(isObject).map((field) => {
    const branches = [field.type].flat();
    const named = branches
      .filter((b) => b !== 'null')
      .map((b) => (typeof b === 'string' ? (AVRO_TYPES[b] ?? 'any') : 'any'));
    const type: ValueType = new Set(named).size === 1 ? named[0]! : 'any';
    const description = typeof field.doc === 'string' ? field.doc : undefined;
    return { name: String(field.name), type, nullable: branches.includes('null'), description };
  });
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
