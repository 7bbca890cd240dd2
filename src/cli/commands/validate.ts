/** `tributary validate`: every problem in the definitions with its place, or a summary of what is defined. */
import { existsSync } from 'node:fs';
import { SchemaRegistry } from '../../contracts/registry.js';
import { formatProblem } from '../../definitions/errors.js';
import type { Plan } from '../../definitions/plan.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { loadDefinitions } from '../project.js';
import { registryPath } from '../runtime.js';

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function summarise(plan: Plan) {
  const groups = Object.values(plan.features);
  return {
    entities: Object.keys(plan.entities).length,
    streams: Object.keys(plan.streams).length,
    tables: Object.keys(plan.tables).length,
    featureGroups: groups.length,
    features: groups.reduce((n, g) => n + g.aggregations.length, 0),
    views: Object.keys(plan.views).length,
    hash: plan.hash,
  };
}

export async function runValidate(options: { project: string; json: boolean }, out: Output): Promise<void> {
  const { file, result: compiled } = await loadDefinitions(options.project);
  let result = compiled;
  // A schema change that the registry (kept by `serve`) would refuse is reported here first.
  if (compiled.ok && existsSync(registryPath(options.project))) {
    const refused = SchemaRegistry.open(registryPath(options.project)).checkPlan(compiled.plan);
    if (refused.length) {
      result = {
        ok: false,
        problems: refused.map((r) => ({
          file,
          path: ['streams', r.stream, 'schema'],
          message: `incompatible with the registered versions (${compiled.plan.streams[r.stream]!.compatibility}): ${r.problems.join('; ')}`,
          hint: "keep the change compatible (docs/schemas.md), or change the stream's `compatibility` on purpose",
        })),
      };
    }
  }
  if (options.json)
    out.json(
      result.ok
        ? { ok: true, file, ...summarise(result.plan) }
        : { ok: false, file, problems: result.problems },
    );
  if (!result.ok) {
    if (!options.json) for (const problem of result.problems) out.line(formatProblem(problem));
    throw new CliError(
      `${file}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}; fix them and run \`tributary validate\` again`,
    );
  }
  if (!options.json) {
    const s = summarise(result.plan);
    const counted = [
      count(s.entities, 'entity', 'entities'),
      count(s.streams, 'stream'),
      count(s.tables, 'table'),
      `${count(s.featureGroups, 'feature group')} (${count(s.features, 'feature')})`,
      count(s.views, 'view'),
    ];
    out.line(`${file} is valid: ${counted.join(', ')}; plan ${s.hash}`);
  }
}
