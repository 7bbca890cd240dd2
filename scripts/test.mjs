#!/usr/bin/env node
// Runs the whole vitest suite and ends the output with the plain line CI reads: `N passed, N failed`.
// Extra arguments are passed to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const resultFile = '.vitest/results.json';
mkdirSync('.vitest', { recursive: true });
rmSync(resultFile, { force: true });
const vitest = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const results = JSON.parse(readFileSync(resultFile, 'utf8'));
  passed = results.numPassedTests;
  // A failing test also fails its describe block and file: count suites only when they broke with no test failing
  // (an import error, a crash in a hook).
  failed = results.numFailedTests || (results.numFailedTestSuites ?? 0);
  skipped = results.numPendingTests + results.numTodoTests;
} catch {
  failed = Math.max(1, failed); // no report: the run itself broke
}
const code = vitest.status ?? 1;
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code);
