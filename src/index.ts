/** Tributary's library surface: definitions (YAML or builder), the evaluation core, and expressions. */
export { agg, defineProject } from './definitions/builder.js';
export { type CompileResult, compileDefinitions } from './definitions/compile.js';
export { DefinitionError, type DefinitionProblem, formatProblem } from './definitions/errors.js';
export type { Plan } from './definitions/plan.js';
export type { ProjectSource } from './definitions/source.js';
export { compileYaml } from './definitions/yaml.js';
export { Core, UnknownNameError } from './engine/core/core.js';
export { Deduplicator } from './engine/core/dedupe.js';
export type { CoreEvent } from './engine/core/event.js';
export type { Vector } from './engine/core/view-engine.js';
export { compileCel, ExpressionError } from './expressions/cel.js';
