/**
 * Before the tests: builds dist/ once (for the tests that run the CLI as a user does, the built bin in a child
 * process), and gives the run a temporary folder of its own. Tests, their workers and the servers they start
 * make their folders with `os.tmpdir()`, which follows TMPDIR: pointing it at one folder per run lets the
 * teardown remove everything a run wrote (a crash test writes hundreds of megabytes). Set
 * TRIBUTARY_KEEP_TEST_FILES=1 to keep that folder for a look after a failure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = new URL('../', import.meta.url).pathname;
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`);
  const runDir = mkdtempSync(join(tmpdir(), 'tributary-test-run-'));
  process.env.TMPDIR = runDir;
  return () => {
    if (process.env.TRIBUTARY_KEEP_TEST_FILES) {
      console.log(`test files kept in ${runDir}`);
      return;
    }
    rmSync(runDir, { recursive: true, force: true });
  };
}
