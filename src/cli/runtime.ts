/** A project opened for work: its compiled definitions, its log under `.tributary/`, and the intake over it. */
import { join, resolve } from 'node:path';
import { formatProblem } from '../definitions/errors.js';
import type { Plan } from '../definitions/plan.js';
import { suggest } from '../definitions/suggest.js';
import { Intake } from '../ingest/intake.js';
import { EmbeddedLog } from '../log/embedded/embedded-log.js';
import { LogError } from '../log/log.js';
import { CliError } from './errors.js';
import { loadDefinitions } from './project.js';

export interface OpenProject {
  readonly plan: Plan;
  readonly log: EmbeddedLog;
  readonly intake: Intake;
  close(): Promise<void>;
}

export const stateDir = (projectDir: string) => join(resolve(projectDir), '.tributary');
export const registryPath = (projectDir: string) => join(stateDir(projectDir), 'registry.json');
export const keysPath = (projectDir: string) => join(stateDir(projectDir), 'keys.json');
export const checkpointDir = (projectDir: string) => join(stateDir(projectDir), 'state');

export async function loadPlan(projectDir: string): Promise<Plan> {
  const { file, result } = await loadDefinitions(projectDir);
  if (!result.ok) {
    throw new CliError(
      `${file} has ${result.problems.length} problem(s); run \`tributary validate\`:\n${result.problems.slice(0, 5).map(formatProblem).join('\n')}`,
    );
  }
  return result.plan;
}

export async function openProject(projectDir: string): Promise<OpenProject> {
  const plan = await loadPlan(projectDir);
  let log: EmbeddedLog;
  try {
    log = await EmbeddedLog.open(join(stateDir(projectDir), 'log'));
  } catch (error) {
    if (error instanceof LogError)
      throw new CliError(
        `${error.message}. If a \`tributary serve\` owns this project, send the work to it over HTTP.`,
      );
    throw error;
  }
  const intake = await Intake.open(plan, log);
  return { plan, log, intake, close: () => log.close() };
}

/** The stream or table named on the command line, or an error naming the closest one. */
export function requireSource(plan: Plan, name: string): void {
  if (name in plan.streams || name in plan.tables) return;
  throw new CliError(
    `unknown stream or table \`${name}\`; ${suggest(name, [...Object.keys(plan.streams), ...Object.keys(plan.tables)])}`,
  );
}
