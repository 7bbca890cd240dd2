/** `tributary init [dir]`: a starter project (the fraud example) that `tributary validate` accepts. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEMO_DEFINITIONS } from '../../demo/payments.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { DEFINITION_FILES } from '../project.js';

export function runInit(options: { dir: string; force: boolean }, out: Output): void {
  const dir = resolve(options.dir);
  const existing = DEFINITION_FILES.find((f) => existsSync(join(dir, f)));
  if (existing && !options.force)
    throw new CliError(`${join(dir, existing)} already exists; use --force to overwrite it`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'tributary.yaml'),
    `# Tributary definitions: see docs/definitions.md for every key.\n${DEMO_DEFINITIONS.trimStart()}`,
  );
  const gitignore = join(dir, '.gitignore');
  if (!existsSync(gitignore)) writeFileSync(gitignore, '.tributary/\n');
  out.line(
    `wrote ${join(dir, 'tributary.yaml')} (a card-fraud starter). Next: \`tributary validate --project ${options.dir}\``,
  );
}
