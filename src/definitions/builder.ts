/**
 * The typed TypeScript builder: the same model as `tributary.yaml`, checked by the compiler, with plain
 * functions allowed where YAML takes CEL. `defineProject(...)` returns the compiled Plan or throws
 * DefinitionError listing every problem.
 */
import { compileDefinitions } from './compile.js';
import { DefinitionError } from './errors.js';
import type { Plan } from './plan.js';
import type {
  AggregationSource,
  EntitySource,
  FeatureGroupSource,
  ProjectSource,
  StreamSource,
  TableSource,
  ViewSource,
} from './source.js';

export type {
  AggregationSource,
  EntitySource,
  FeatureGroupSource,
  ProjectSource,
  StreamSource,
  TableSource,
  ViewSource,
};

/** Window shorthand as in YAML: `10m`, `1h`, `30d`. */
export type Window = `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

/** Aggregation helpers, so that TypeScript users write `agg.sum('amount', '7d')`. */
export const agg = {
  count: (window?: Window): AggregationSource => ({ fn: 'count', ...(window ? { window } : {}) }),
  sum: (field: string, window?: Window) => fieldAgg('sum', field, window),
  mean: (field: string, window?: Window) => fieldAgg('mean', field, window),
  min: (field: string, window?: Window) => fieldAgg('min', field, window),
  max: (field: string, window?: Window) => fieldAgg('max', field, window),
  stddev: (field: string, window?: Window) => fieldAgg('stddev', field, window),
  variance: (field: string, window?: Window) => fieldAgg('variance', field, window),
  first: (fields: string | string[], window?: Window) => multiAgg('first', fields, window),
  last: (fields: string | string[], window?: Window) => multiAgg('last', fields, window),
  firstK: (field: string, k: number, window?: Window) => ({ ...fieldAgg('firstK', field, window), k }),
  lastK: (field: string, k: number, window?: Window) => ({ ...fieldAgg('lastK', field, window), k }),
  countDistinct: (field: string, window?: Window) => fieldAgg('countDistinct', field, window),
  approxCountDistinct: (field: string, window?: Window) => fieldAgg('approxCountDistinct', field, window),
  approxQuantile: (field: string, q: number, window?: Window) => ({
    ...fieldAgg('approxQuantile', field, window),
    q,
  }),
  timeSinceLast: (window?: Window): AggregationSource => ({
    fn: 'timeSinceLast',
    ...(window ? { window } : {}),
  }),
  timeSinceFirst: (window?: Window): AggregationSource => ({
    fn: 'timeSinceFirst',
    ...(window ? { window } : {}),
  }),
};

function fieldAgg(fn: string, field: string, window?: Window): AggregationSource {
  return { fn, field, ...(window ? { window } : {}) };
}

function multiAgg(fn: string, fields: string | string[], window?: Window): AggregationSource {
  return Array.isArray(fields) ? { fn, fields, ...(window ? { window } : {}) } : fieldAgg(fn, fields, window);
}

/** Compiles a project defined in TypeScript; throws DefinitionError with every problem and its path. */
export function defineProject(source: ProjectSource, file = 'tributary.config.ts'): Plan {
  const result = compileDefinitions(source, { file });
  if (!result.ok) throw new DefinitionError(result.problems);
  return result.plan;
}
