/** Builds dist/ once before the tests that run the CLI as a user does (the built bin in a child process). */
import { spawnSync } from 'node:child_process';

export default function setup(): void {
  const root = new URL('../', import.meta.url).pathname;
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`);
}
