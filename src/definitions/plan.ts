/**
 * The compiled plan: the one serialisable, immutable form of a project's definitions that every runtime
 * (online, offline, serving) executes. Built from `tributary.yaml` or from the TypeScript builder, never by hand.
 */

/** A field's value type as the engine sees it. Numbers are doubles (semantics.md). */
export type ValueType = 'double' | 'string' | 'bool' | 'any';

export interface FieldPlan {
  readonly name: string;
  readonly type: ValueType;
  /** True when the schema allows null or does not require the field. */
  readonly nullable: boolean;
  readonly description?: string;
}

export interface EntityPlan {
  readonly name: string;
  /** Column name in spines and outputs. */
  readonly key: string;
  readonly description?: string;
}

/** Schema compatibility modes, as Confluent Schema Registry defines them. */
export const COMPATIBILITIES = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;
export type Compatibility = (typeof COMPATIBILITIES)[number];

export interface StreamPlan {
  readonly name: string;
  readonly owner?: string;
  /** entity name → key field of this stream. */
  readonly keys: Readonly<Record<string, string>>;
  readonly timeField: string;
  readonly idField?: string;
  readonly compatibility: Compatibility;
  readonly schema: unknown;
  readonly fields: readonly FieldPlan[];
  readonly description?: string;
}

export interface TablePlan {
  readonly name: string;
  readonly keyField: string;
  readonly validFromField: string;
  readonly schema: unknown;
  readonly fields: readonly FieldPlan[];
}

export const AGGREGATION_FUNCTIONS = [
  'count',
  'sum',
  'mean',
  'min',
  'max',
  'stddev',
  'variance',
  'first',
  'last',
  'firstK',
  'lastK',
  'countDistinct',
  'timeSinceLast',
  'timeSinceFirst',
  'approxCountDistinct',
  'approxQuantile',
] as const;
export type AggregationFn = (typeof AGGREGATION_FUNCTIONS)[number];

export interface AggregationPlan {
  readonly name: string;
  readonly fn: AggregationFn;
  /** Input fields: none for count/timeSince*, one for most, several for first/last taken together. */
  readonly fields: readonly string[];
  /** Window length in ms; null = all history before t. */
  readonly windowMs: number | null;
  /** Bucketed window resolution in ms (covers [floor(t/r)*r - w, t)); null = exact. */
  readonly bucketMs: number | null;
  readonly k?: number;
  readonly q?: number;
  readonly description?: string;
}

export interface LookupPlan {
  /** Name under which the table row is visible to filters and aggregations (e.g. `merchant`). */
  readonly alias: string;
  readonly table: string;
  /** Event field holding the table key. */
  readonly keyField: string;
}

/** A CEL expression, or (from the TypeScript builder only) a plain function. */
export type ExpressionPlan =
  | { readonly kind: 'cel'; readonly source: string }
  | { readonly kind: 'function'; readonly source: string; readonly fn: (...args: never[]) => unknown };

export interface FeatureGroupPlan {
  readonly name: string;
  readonly stream: string;
  readonly entity: string;
  readonly lookups: readonly LookupPlan[];
  readonly where: ExpressionPlan | null;
  readonly aggregations: readonly AggregationPlan[];
  readonly description?: string;
}

export interface ViewFeaturePlan {
  /** Name in vectors and training sets. */
  readonly name: string;
  readonly group: string;
  readonly aggregation: string;
}

export interface DerivedPlan {
  readonly name: string;
  readonly expression: ExpressionPlan;
  /** Features and request inputs it reads, resolved at validation. */
  readonly inputs: readonly string[];
}

export interface ViewPlan {
  readonly name: string;
  readonly entities: readonly string[];
  readonly features: readonly ViewFeaturePlan[];
  readonly request: Readonly<Record<string, ValueType>>;
  /** In dependency order: each reads only features, request inputs and derived features before it. */
  readonly derived: readonly DerivedPlan[];
  readonly horizonMs: number;
}

export interface Plan {
  readonly kind: 'tributary-plan';
  readonly version: 1;
  readonly entities: Readonly<Record<string, EntityPlan>>;
  readonly streams: Readonly<Record<string, StreamPlan>>;
  readonly tables: Readonly<Record<string, TablePlan>>;
  readonly features: Readonly<Record<string, FeatureGroupPlan>>;
  readonly views: Readonly<Record<string, ViewPlan>>;
  /** Stable hash of everything above; state and checkpoints carry it. */
  readonly hash: string;
}

/** Aggregations whose window is measured but whose value is not a number of the input field. */
export const AGGREGATIONS_WITHOUT_FIELD: ReadonlySet<AggregationFn> = new Set([
  'count',
  'timeSinceLast',
  'timeSinceFirst',
]);
/** Aggregations that need a numeric input. */
export const NUMERIC_AGGREGATIONS: ReadonlySet<AggregationFn> = new Set([
  'sum',
  'mean',
  'min',
  'max',
  'stddev',
  'variance',
  'approxQuantile',
]);
