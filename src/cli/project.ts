/** Finds and reads a project's definitions: `tributary.yaml`, or `tributary.config.{js,mjs,ts}` (a builder module). */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CompileResult, compileDefinitions } from '../definitions/compile.js';
import { compileYaml } from '../definitions/yaml.js';
import { CliError } from './errors.js';

export const DEFINITION_FILES = [
  'tributary.yaml',
  'tributary.yml',
  'tributary.config.js',
  'tributary.config.mjs',
  'tributary.config.ts',
];

export interface LoadedDefinitions {
  readonly file: string;
  readonly result: CompileResult;
}

export async function loadDefinitions(projectDir: string): Promise<LoadedDefinitions> {
  const dir = resolve(projectDir);
  if (!existsSync(dir)) throw new CliError(`no such project folder: ${dir}`);
  const name = DEFINITION_FILES.find((f) => existsSync(join(dir, f)));
  if (!name) {
    throw new CliError(
      `no definitions in ${dir}: expected one of ${DEFINITION_FILES.join(', ')}.\nRun \`tributary init\` to write a starter project.`,
    );
  }
  const file = join(dir, name);
  if (name.endsWith('.yaml') || name.endsWith('.yml'))
    return { file: name, result: compileYaml(readFileSync(file, 'utf8'), name) };
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    const hint = name.endsWith('.ts')
      ? ' (a .ts config needs a TypeScript loader: run `npx tsx node_modules/.bin/tributary …`)'
      : '';
    throw new CliError(
      `could not load ${name}${hint}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (module.default === undefined)
    throw new CliError(
      `${name} must \`export default\` the project definitions (the object given to defineProject)`,
    );
  return { file: name, result: compileDefinitions(module.default, { file: name }) };
}
