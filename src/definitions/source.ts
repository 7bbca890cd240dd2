/**
 * The shape users write: `tributary.yaml` parsed as-is, or the same object built by the TypeScript builder.
 * `compileDefinitions` turns it into a Plan or a list of problems with their places.
 */
export interface EntitySource {
  key?: string;
  description?: string;
}

export interface StreamSource {
  owner?: string;
  description?: string;
  keys: Record<string, string>;
  time: string;
  id?: string;
  compatibility?: string;
  schema?: unknown;
  avro?: unknown;
}

export interface TableSource {
  key: string;
  validFrom: string;
  schema?: unknown;
  avro?: unknown;
}

/** A filter or derived feature: CEL text, or in TypeScript a plain function. */
export type ExpressionSource = string | ((...args: never[]) => unknown);

export interface AggregationSource {
  fn: string;
  field?: string;
  fields?: string[];
  window?: string;
  bucket?: string;
  k?: number;
  q?: number;
  description?: string;
}

export interface FeatureGroupSource {
  stream: string;
  entity: string;
  description?: string;
  lookups?: Record<string, { table: string; key: string }>;
  where?: ExpressionSource;
  aggregations: Record<string, AggregationSource>;
}

export interface ViewSource {
  entity?: string;
  entities?: string[];
  features: string[];
  request?: Record<string, string>;
  derived?: Record<string, ExpressionSource>;
  horizon?: string;
}

export interface ProjectSource {
  entities?: Record<string, EntitySource>;
  streams?: Record<string, StreamSource>;
  tables?: Record<string, TableSource>;
  features?: Record<string, FeatureGroupSource>;
  views?: Record<string, ViewSource>;
}
