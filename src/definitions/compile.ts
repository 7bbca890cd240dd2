/**
 * Validates a project's definitions and compiles them into a Plan. Every problem is collected with its place,
 * so `tributary validate` can report all of them at once; nothing here throws on bad input.
 */
import { compileCel, ExpressionError, type VariableType, valueTypeOf } from '../expressions/cel.js';
import { parseDuration } from './duration.js';
import type { DefinitionPlace, DefinitionProblem } from './errors.js';
import { stableHash } from './hash.js';
import {
  AGGREGATION_FUNCTIONS,
  AGGREGATIONS_WITHOUT_FIELD,
  type AggregationFn,
  type AggregationPlan,
  COMPATIBILITIES,
  type Compatibility,
  type DerivedPlan,
  type EntityPlan,
  type ExpressionPlan,
  type FeatureGroupPlan,
  type FieldPlan,
  type LookupPlan,
  NUMERIC_AGGREGATIONS,
  type Plan,
  type StreamPlan,
  type TablePlan,
  type ValueType,
  type ViewFeaturePlan,
  type ViewPlan,
} from './plan.js';
import { fieldsOfAvroSchema, fieldsOfJsonSchema, isObject } from './schema-fields.js';
import { suggest } from './suggest.js';

export type Path = (string | number)[];

/** Maps a path inside the definitions to a line and column; the YAML loader provides one. */
export type Locator = (path: readonly (string | number)[]) => { line: number; column: number } | undefined;

export interface CompileOptions {
  file?: string;
  locate?: Locator;
}

export type CompileResult = { ok: true; plan: Plan } | { ok: false; problems: DefinitionProblem[] };

const REQUEST_TYPES: readonly ValueType[] = ['double', 'string', 'bool'];
const TOP_LEVEL = ['entities', 'streams', 'tables', 'features', 'views'];
const DEFAULT_HORIZON_MS = 86_400_000;

/** Collects problems with their places. */
class Problems {
  readonly list: DefinitionProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly locate: Locator | undefined,
  ) {}
  add(path: Path, message: string, hint?: string): void {
    const place: DefinitionPlace = { file: this.file, path, ...this.locate?.(path) };
    this.list.push({ ...place, message, ...(hint ? { hint } : {}) });
  }
}

function entriesOf(value: unknown, path: Path, problems: Problems): [string, Record<string, unknown>][] {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) {
    problems.add(path, 'must be a mapping of names to definitions');
    return [];
  }
  const out: [string, Record<string, unknown>][] = [];
  for (const [name, item] of Object.entries(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.add(
        [...path, name],
        `\`${name}\` is not a valid name`,
        'use letters, digits and _ (not first)',
      );
    } else if (name.startsWith('__')) {
      problems.add(
        [...path, name],
        `names starting with \`__\` are reserved for Tributary's own streams`,
        'rename it',
      );
    }
    if (isObject(item)) out.push([name, item]);
    else problems.add([...path, name], 'must be a mapping');
  }
  return out;
}

function optionalString(
  item: Record<string, unknown>,
  key: string,
  path: Path,
  problems: Problems,
): string | undefined {
  const value = item[key];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  problems.add([...path, key], `\`${key}\` must be a string`);
  return undefined;
}

function requiredString(
  item: Record<string, unknown>,
  key: string,
  path: Path,
  problems: Problems,
): string | undefined {
  if (item[key] === undefined) {
    problems.add(path, `\`${key}\` is missing`);
    return undefined;
  }
  return optionalString(item, key, path, problems);
}

function checkKeys(
  item: Record<string, unknown>,
  allowed: readonly string[],
  path: Path,
  problems: Problems,
): void {
  for (const key of Object.keys(item)) {
    if (!allowed.includes(key)) problems.add([...path, key], `unknown key \`${key}\``, suggest(key, allowed));
  }
}

function schemaFields(item: Record<string, unknown>, path: Path, problems: Problems): FieldPlan[] {
  if (item.schema !== undefined) {
    const fields = fieldsOfJsonSchema(item.schema);
    if (fields) return fields;
    problems.add([...path, 'schema'], 'must be a JSON Schema of `type: object` with `properties`');
  } else if (item.avro !== undefined) {
    const fields = fieldsOfAvroSchema(item.avro);
    if (fields) return fields;
    problems.add([...path, 'avro'], 'must be an Avro schema of `type: record` with `fields`');
  } else {
    problems.add(path, 'a schema is missing', 'add `schema:` (JSON Schema) or `avro:` (Avro record)');
  }
  return [];
}

function requireField(
  fields: readonly FieldPlan[],
  name: string | undefined,
  path: Path,
  problems: Problems,
): void {
  if (name === undefined || fields.length === 0) return;
  if (!fields.some((f) => f.name === name)) {
    problems.add(
      path,
      `field \`${name}\` is not in the schema`,
      suggest(
        name,
        fields.map((f) => f.name),
      ),
    );
  }
}

function compileEntities(source: unknown, problems: Problems): Record<string, EntityPlan> {
  const entities: Record<string, EntityPlan> = {};
  for (const [name, item] of entriesOf(source, ['entities'], problems)) {
    const path = ['entities', name];
    checkKeys(item, ['key', 'description'], path, problems);
    const key = optionalString(item, 'key', path, problems) ?? `${name}Id`;
    const description = optionalString(item, 'description', path, problems);
    entities[name] = { name, key, ...(description ? { description } : {}) };
  }
  return entities;
}

function compileStreams(source: unknown, entities: Record<string, EntityPlan>, problems: Problems) {
  const streams: Record<string, StreamPlan> = {};
  for (const [name, item] of entriesOf(source, ['streams'], problems)) {
    const path = ['streams', name];
    checkKeys(
      item,
      ['owner', 'description', 'keys', 'time', 'id', 'compatibility', 'schema', 'avro'],
      path,
      problems,
    );
    const fields = schemaFields(item, path, problems);
    const keys: Record<string, string> = {};
    if (!isObject(item.keys) || Object.keys(item.keys).length === 0) {
      problems.add(
        path,
        '`keys` is missing',
        'map each entity to its key field, e.g. `keys: { customer: customerId }`',
      );
    } else {
      for (const [entity, field] of Object.entries(item.keys)) {
        if (!(entity in entities)) {
          problems.add(
            [...path, 'keys', entity],
            `unknown entity \`${entity}\``,
            suggest(entity, Object.keys(entities)),
          );
        }
        if (typeof field !== 'string') problems.add([...path, 'keys', entity], 'must be a field name');
        else {
          requireField(fields, field, [...path, 'keys', entity], problems);
          keys[entity] = field;
        }
      }
    }
    const timeField = requiredString(item, 'time', path, problems);
    requireField(fields, timeField, [...path, 'time'], problems);
    const idField = optionalString(item, 'id', path, problems);
    requireField(fields, idField, [...path, 'id'], problems);
    const compatibility = (optionalString(item, 'compatibility', path, problems) ??
      'BACKWARD') as Compatibility;
    if (!COMPATIBILITIES.includes(compatibility)) {
      problems.add(
        [...path, 'compatibility'],
        `unknown compatibility \`${compatibility}\``,
        `use one of ${COMPATIBILITIES.join(', ')}`,
      );
    }
    const owner = optionalString(item, 'owner', path, problems);
    const description = optionalString(item, 'description', path, problems);
    streams[name] = {
      name,
      keys,
      timeField: timeField ?? '',
      compatibility,
      schema: item.schema ?? item.avro,
      fields,
      ...(idField ? { idField } : {}),
      ...(owner ? { owner } : {}),
      ...(description ? { description } : {}),
    };
  }
  return streams;
}

function compileTables(source: unknown, problems: Problems): Record<string, TablePlan> {
  const tables: Record<string, TablePlan> = {};
  for (const [name, item] of entriesOf(source, ['tables'], problems)) {
    const path = ['tables', name];
    checkKeys(item, ['key', 'validFrom', 'schema', 'avro', 'description'], path, problems);
    const fields = schemaFields(item, path, problems);
    const keyField = requiredString(item, 'key', path, problems);
    requireField(fields, keyField, [...path, 'key'], problems);
    const validFromField = requiredString(item, 'validFrom', path, problems);
    requireField(fields, validFromField, [...path, 'validFrom'], problems);
    tables[name] = {
      name,
      keyField: keyField ?? '',
      validFromField: validFromField ?? '',
      schema: item.schema ?? item.avro,
      fields,
    };
  }
  return tables;
}

/** The fields an event of a group carries: its stream's fields, then `alias.field` for each lookup. */
export function groupFieldTypes(
  stream: StreamPlan | undefined,
  lookups: LookupPlan[],
  tables: Record<string, TablePlan>,
) {
  const types = new Map<string, ValueType>();
  for (const f of stream?.fields ?? []) types.set(f.name, f.type);
  for (const lookup of lookups) {
    for (const f of tables[lookup.table]?.fields ?? []) types.set(`${lookup.alias}.${f.name}`, f.type);
  }
  return types;
}

function expressionOf(value: unknown): ExpressionPlan | null {
  if (typeof value === 'string') return { kind: 'cel', source: value };
  if (typeof value === 'function') {
    return { kind: 'function', source: value.toString(), fn: value as (...args: never[]) => unknown };
  }
  return null;
}

function compileAggregation(
  name: string,
  item: Record<string, unknown>,
  path: Path,
  fieldTypes: Map<string, ValueType>,
  problems: Problems,
): AggregationPlan | null {
  checkKeys(item, ['fn', 'field', 'fields', 'window', 'bucket', 'k', 'q', 'description'], path, problems);
  const fn = item.fn as AggregationFn;
  if (!AGGREGATION_FUNCTIONS.includes(fn)) {
    problems.add(
      [...path, 'fn'],
      `unknown aggregation \`${String(item.fn)}\``,
      suggest(String(item.fn), AGGREGATION_FUNCTIONS),
    );
    return null;
  }
  let fields: string[] = [];
  if (item.fields !== undefined) {
    if (
      !Array.isArray(item.fields) ||
      item.fields.length === 0 ||
      !item.fields.every((f) => typeof f === 'string')
    ) {
      problems.add([...path, 'fields'], '`fields` must be a non-empty list of field names');
    } else if (fn !== 'first' && fn !== 'last') {
      problems.add(
        [...path, 'fields'],
        `\`${fn}\` takes one \`field\``,
        'only first and last take several fields together',
      );
    } else fields = item.fields as string[];
    if (item.field !== undefined) problems.add([...path, 'field'], 'give `field` or `fields`, not both');
  } else if (typeof item.field === 'string') fields = [item.field];
  else if (item.field !== undefined) problems.add([...path, 'field'], '`field` must be a field name');

  if (AGGREGATIONS_WITHOUT_FIELD.has(fn)) {
    if (fields.length) problems.add([...path, 'field'], `\`${fn}\` takes no field`);
    fields = [];
  } else if (fields.length === 0 && item.field === undefined && item.fields === undefined) {
    problems.add(path, `\`${fn}\` needs a \`field\``);
  }
  fields.forEach((field, i) => {
    const where = item.fields !== undefined ? [...path, 'fields', i] : [...path, 'field'];
    const type = fieldTypes.get(field);
    if (type === undefined) {
      if (fieldTypes.size)
        problems.add(where, `unknown field \`${field}\``, suggest(field, fieldTypes.keys()));
    } else if (NUMERIC_AGGREGATIONS.has(fn) && type !== 'double' && type !== 'any') {
      problems.add(
        where,
        `\`${fn}\` needs a number, but \`${field}\` is a ${type}`,
        'aggregate a numeric field',
      );
    }
  });

  let windowMs: number | null = null;
  if (item.window !== undefined) {
    windowMs = parseDuration(item.window);
    if (windowMs === null) {
      problems.add(
        [...path, 'window'],
        `bad window \`${String(item.window)}\``,
        'write a positive length such as 500ms, 30s, 10m, 1h or 7d',
      );
    }
  }
  let bucketMs: number | null = null;
  if (item.bucket !== undefined) {
    bucketMs = parseDuration(item.bucket);
    if (bucketMs === null)
      problems.add(
        [...path, 'bucket'],
        `bad bucket \`${String(item.bucket)}\``,
        'write a length such as 1m or 1h',
      );
    else if (windowMs === null) problems.add([...path, 'bucket'], 'a bucket needs a `window`');
  }
  let k: number | undefined;
  if (fn === 'firstK' || fn === 'lastK') {
    if (!Number.isInteger(item.k) || (item.k as number) < 1 || (item.k as number) > 10_000) {
      problems.add([...path, 'k'], '`k` must be a whole number from 1 to 10000');
    } else k = item.k as number;
  } else if (item.k !== undefined) problems.add([...path, 'k'], `\`${fn}\` takes no \`k\``);
  let q: number | undefined;
  if (fn === 'approxQuantile') {
    if (typeof item.q !== 'number' || !(item.q > 0 && item.q <= 1)) {
      problems.add([...path, 'q'], '`q` must be a number in (0, 1], e.g. 0.95');
    } else q = item.q;
  } else if (item.q !== undefined) problems.add([...path, 'q'], `\`${fn}\` takes no \`q\``);
  const description = typeof item.description === 'string' ? item.description : undefined;
  return {
    name,
    fn,
    fields,
    windowMs,
    bucketMs,
    ...(k !== undefined ? { k } : {}),
    ...(q !== undefined ? { q } : {}),
    ...(description ? { description } : {}),
  };
}

/** CEL variables for a `where` filter: the event's fields and each lookup's row. */
export function whereVariables(
  stream: StreamPlan | undefined,
  lookups: LookupPlan[],
  tables: Record<string, TablePlan>,
) {
  const variables: Record<string, VariableType> = {};
  for (const f of stream?.fields ?? []) variables[f.name] = f.type;
  for (const lookup of lookups) {
    const fields: Record<string, ValueType> = {};
    for (const f of tables[lookup.table]?.fields ?? []) fields[f.name] = f.type;
    variables[lookup.alias] = { fields };
  }
  return variables;
}

function compileFeatureGroups(
  source: unknown,
  entities: Record<string, EntityPlan>,
  streams: Record<string, StreamPlan>,
  tables: Record<string, TablePlan>,
  problems: Problems,
) {
  const groups: Record<string, FeatureGroupPlan> = {};
  for (const [name, item] of entriesOf(source, ['features'], problems)) {
    const path = ['features', name];
    checkKeys(item, ['stream', 'entity', 'description', 'lookups', 'where', 'aggregations'], path, problems);
    const streamName = requiredString(item, 'stream', path, problems);
    const stream = streamName === undefined ? undefined : streams[streamName];
    if (streamName !== undefined && !stream) {
      problems.add(
        [...path, 'stream'],
        `unknown stream \`${streamName}\``,
        suggest(streamName, Object.keys(streams)),
      );
    }
    const entity = requiredString(item, 'entity', path, problems);
    if (entity !== undefined && !(entity in entities)) {
      problems.add(
        [...path, 'entity'],
        `unknown entity \`${entity}\``,
        suggest(entity, Object.keys(entities)),
      );
    } else if (entity !== undefined && stream && !(entity in stream.keys)) {
      problems.add(
        [...path, 'entity'],
        `stream \`${stream.name}\` has no key for entity \`${entity}\``,
        `add it to streams.${stream.name}.keys`,
      );
    }
    const lookups: LookupPlan[] = [];
    for (const [alias, lookup] of entriesOf(item.lookups, [...path, 'lookups'], problems)) {
      const lookupPath = [...path, 'lookups', alias];
      checkKeys(lookup, ['table', 'key'], lookupPath, problems);
      const table = requiredString(lookup, 'table', lookupPath, problems);
      const keyField = requiredString(lookup, 'key', lookupPath, problems);
      if (table !== undefined && !(table in tables)) {
        problems.add(
          [...lookupPath, 'table'],
          `unknown table \`${table}\``,
          suggest(table, Object.keys(tables)),
        );
      }
      if (stream) requireField(stream.fields, keyField, [...lookupPath, 'key'], problems);
      if (stream?.fields.some((f) => f.name === alias)) {
        problems.add(
          lookupPath,
          `lookup name \`${alias}\` hides the stream field of that name`,
          'rename the lookup',
        );
      }
      if (table !== undefined && keyField !== undefined) lookups.push({ alias, table, keyField });
    }
    let where: ExpressionPlan | null = null;
    if (item.where !== undefined) {
      where = expressionOf(item.where);
      if (!where) problems.add([...path, 'where'], '`where` must be a CEL expression');
      else if (where.kind === 'cel' && stream) {
        try {
          const checked = compileCel(where.source, whereVariables(stream, lookups, tables));
          if (checked.resultType !== 'bool' && checked.resultType !== 'dyn') {
            problems.add(
              [...path, 'where'],
              `\`where\` must be true or false, but gives a ${checked.resultType}`,
            );
          }
        } catch (error) {
          if (!(error instanceof ExpressionError)) throw error;
          problems.add(
            [...path, 'where'],
            error.reason,
            "fields are the stream's; lookups are `alias.field`",
          );
        }
      }
    }
    // Without its stream, a group's fields are unknown: checking them would only repeat the stream problem.
    const fieldTypes = stream ? groupFieldTypes(stream, lookups, tables) : new Map<string, ValueType>();
    const aggregations: AggregationPlan[] = [];
    const aggregationPath = [...path, 'aggregations'];
    if (!isObject(item.aggregations) || Object.keys(item.aggregations).length === 0) {
      problems.add(
        path,
        '`aggregations` is missing',
        'add at least one, e.g. `count_1h: { fn: count, window: 1h }`',
      );
    }
    for (const [aggName, agg] of entriesOf(item.aggregations, aggregationPath, problems)) {
      const compiled = compileAggregation(aggName, agg, [...aggregationPath, aggName], fieldTypes, problems);
      if (compiled) aggregations.push(compiled);
    }
    const description = optionalString(item, 'description', path, problems);
    groups[name] = {
      name,
      stream: streamName ?? '',
      entity: entity ?? '',
      lookups,
      where,
      aggregations,
      ...(description ? { description } : {}),
    };
  }
  return groups;
}

/** The CEL type of a feature's value, for derived features that read it. */
export function featureValueType(agg: AggregationPlan, fieldTypes: Map<string, ValueType>): VariableType {
  switch (agg.fn) {
    case 'first':
    case 'last':
      if (agg.fields.length === 1) return fieldTypes.get(agg.fields[0]!) ?? 'any';
      return { fields: Object.fromEntries(agg.fields.map((f) => [f, fieldTypes.get(f) ?? 'any'])) };
    case 'firstK':
    case 'lastK':
      return { list: fieldTypes.get(agg.fields[0]!) ?? 'any' };
    default:
      return 'double';
  }
}

function compileViews(
  source: unknown,
  entities: Record<string, EntityPlan>,
  groups: Record<string, FeatureGroupPlan>,
  streams: Record<string, StreamPlan>,
  tables: Record<string, TablePlan>,
  problems: Problems,
) {
  const views: Record<string, ViewPlan> = {};
  for (const [name, item] of entriesOf(source, ['views'], problems)) {
    const path = ['views', name];
    checkKeys(
      item,
      ['entity', 'entities', 'features', 'request', 'derived', 'horizon', 'description'],
      path,
      problems,
    );
    let viewEntities: string[] = [];
    if (typeof item.entity === 'string') viewEntities = [item.entity];
    else if (Array.isArray(item.entities) && item.entities.every((e) => typeof e === 'string'))
      viewEntities = item.entities;
    else
      problems.add(
        path,
        'say which entities the view is for',
        'add `entity: customer` or `entities: [customer, merchant]`',
      );
    if (item.entity !== undefined && item.entities !== undefined)
      problems.add(path, 'give `entity` or `entities`, not both');
    viewEntities.forEach((entity, i) => {
      if (!(entity in entities)) {
        const where = item.entities ? [...path, 'entities', i] : [...path, 'entity'];
        problems.add(where, `unknown entity \`${entity}\``, suggest(entity, Object.keys(entities)));
      }
    });

    const features: ViewFeaturePlan[] = [];
    const variables: Record<string, VariableType> = {};
    const taken = new Map<string, Path>();
    const claim = (featureName: string, where: Path): boolean => {
      if (taken.has(featureName)) {
        problems.add(
          where,
          `feature name \`${featureName}\` is used twice in the view`,
          'rename one with `as <name>`',
        );
        return false;
      }
      taken.set(featureName, where);
      return true;
    };
    if (!Array.isArray(item.features) || item.features.length === 0) {
      problems.add(
        path,
        '`features` is missing',
        'list features as `group.feature`, `group.*` or `group.feature as name`',
      );
    }
    (Array.isArray(item.features) ? item.features : []).forEach((ref, i) => {
      const where = [...path, 'features', i];
      const match = typeof ref === 'string' ? /^\s*(\w+)\.(\*|\w+)(?:\s+as\s+(\w+))?\s*$/.exec(ref) : null;
      if (!match) {
        problems.add(
          where,
          `cannot read feature reference \`${String(ref)}\``,
          'write `group.feature`, `group.*` or `group.feature as name`',
        );
        return;
      }
      const [, groupName, aggName, alias] = match as unknown as [string, string, string, string | undefined];
      const group = groups[groupName];
      if (!group) {
        problems.add(
          where,
          `unknown feature group \`${groupName}\``,
          suggest(groupName, Object.keys(groups)),
        );
        return;
      }
      if (viewEntities.length && group.entity && !viewEntities.includes(group.entity)) {
        problems.add(
          where,
          `group \`${groupName}\` is for entity \`${group.entity}\`, which the view does not have`,
          `add \`${group.entity}\` to the view's entities`,
        );
      }
      const fieldTypes = groupFieldTypes(streams[group.stream], [...group.lookups], tables);
      const chosen =
        aggName === '*' ? group.aggregations : group.aggregations.filter((a) => a.name === aggName);
      if (aggName === '*' && alias) problems.add(where, '`as` renames one feature, not `*`');
      if (chosen.length === 0 && aggName !== '*') {
        problems.add(
          where,
          `group \`${groupName}\` has no feature \`${aggName}\``,
          suggest(
            aggName,
            group.aggregations.map((a) => a.name),
          ),
        );
      }
      for (const agg of chosen) {
        const featureName = alias && aggName !== '*' ? alias : agg.name;
        if (!claim(featureName, where)) continue;
        features.push({ name: featureName, group: groupName, aggregation: agg.name });
        variables[featureName] = featureValueType(agg, fieldTypes);
      }
    });

    const request: Record<string, ValueType> = {};
    for (const [input, type] of Object.entries(isObject(item.request) ? item.request : {})) {
      if (!REQUEST_TYPES.includes(type as ValueType)) {
        problems.add(
          [...path, 'request', input],
          `unknown type \`${String(type)}\``,
          `use one of ${REQUEST_TYPES.join(', ')}`,
        );
      } else request[input] = type as ValueType;
    }
    if (item.request !== undefined && !isObject(item.request))
      problems.add([...path, 'request'], 'must map input names to types');
    if (Object.keys(request).length) variables.request = { fields: request };

    const derived = compileDerived(item.derived, [...path, 'derived'], variables, claim, problems);
    let horizonMs = DEFAULT_HORIZON_MS;
    if (item.horizon !== undefined) {
      const parsed = parseDuration(item.horizon);
      if (parsed === null)
        problems.add(
          [...path, 'horizon'],
          `bad horizon \`${String(item.horizon)}\``,
          'write a length such as 1d or 12h',
        );
      else horizonMs = parsed;
    }
    views[name] = { name, entities: viewEntities, features, request, derived, horizonMs };
  }
  return views;
}

/** Derived features, checked and put in dependency order; a cycle is a problem, not a hang. */
function compileDerived(
  source: unknown,
  path: Path,
  variables: Record<string, VariableType>,
  claim: (name: string, where: Path) => boolean,
  problems: Problems,
): DerivedPlan[] {
  if (source === undefined) return [];
  if (!isObject(source)) {
    problems.add(path, 'must map derived feature names to expressions');
    return [];
  }
  const pending = new Map<string, ExpressionPlan>();
  for (const [name, value] of Object.entries(source)) {
    const expression = expressionOf(value);
    if (!expression) problems.add([...path, name], 'must be a CEL expression');
    else if (claim(name, [...path, name])) pending.set(name, expression);
  }
  // First pass: find what each expression reads, treating other derived features as untyped.
  const dependencies = new Map<string, string[]>();
  const loose: Record<string, VariableType> = { ...variables };
  for (const name of pending.keys()) loose[name] = 'any';
  for (const [name, expression] of pending) {
    if (expression.kind === 'function') dependencies.set(name, []);
    else {
      try {
        dependencies.set(
          name,
          compileCel(expression.source, loose).inputs.filter((input) => pending.has(input)),
        );
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        problems.add(
          [...path, name],
          error.reason,
          "derived features read the view's features, `request.<input>` and other derived features",
        );
      }
    }
  }
  // Topological order; what remains after it is a cycle.
  const ordered: DerivedPlan[] = [];
  const typed: Record<string, VariableType> = { ...variables };
  const done = new Set<string>();
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const [name, deps] of dependencies) {
      if (done.has(name) || !deps.every((d) => done.has(d))) continue;
      const expression = pending.get(name)!;
      let inputs: readonly string[] = [];
      if (expression.kind === 'cel') {
        try {
          const checked = compileCel(expression.source, typed);
          inputs = checked.inputs;
          typed[name] = valueTypeOf(checked.resultType);
        } catch (error) {
          if (!(error instanceof ExpressionError)) throw error;
          problems.add([...path, name], error.reason);
        }
      } else typed[name] = 'any';
      ordered.push({ name, expression, inputs });
      done.add(name);
      progressed = true;
    }
  }
  const cyclic = [...dependencies.keys()].filter((name) => !done.has(name));
  if (cyclic.length) {
    problems.add(
      [...path, cyclic[0]!],
      `derived features depend on each other in a cycle: ${cyclic.join(' → ')} → ${cyclic[0]}`,
      'break the cycle: a derived feature may not read itself, directly or through others',
    );
  }
  return ordered;
}

/** Validates and compiles definitions. Never throws for bad input: problems come back with their places. */
export function compileDefinitions(source: unknown, options: CompileOptions = {}): CompileResult {
  const problems = new Problems(options.file ?? 'tributary.yaml', options.locate);
  if (!isObject(source)) {
    problems.add([], 'the definitions must be a mapping with entities, streams, features and views');
    return { ok: false, problems: problems.list };
  }
  checkKeys(source, TOP_LEVEL, [], problems);
  const entities = compileEntities(source.entities, problems);
  const streams = compileStreams(source.streams, entities, problems);
  const tables = compileTables(source.tables, problems);
  const features = compileFeatureGroups(source.features, entities, streams, tables, problems);
  const views = compileViews(source.views, entities, features, streams, tables, problems);
  if (problems.list.length) return { ok: false, problems: problems.list };
  const body = {
    kind: 'tributary-plan' as const,
    version: 1 as const,
    entities,
    streams,
    tables,
    features,
    views,
  };
  return { ok: true, plan: deepFreeze({ ...body, hash: stableHash(body) }) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
