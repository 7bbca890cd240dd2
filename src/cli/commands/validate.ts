/** `tributary validate`: every problem in the definitions with its place, or a summary of what is defined. */
import { formatProblem } from '../../definitions/errors.js';
import type { Plan } from '../../definitions/plan.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { loadDefinitions } from '../project.js';

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
  const { file, result } = await loadDefinitions(options.project);
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
