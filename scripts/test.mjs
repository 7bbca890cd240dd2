#!/usr/bin/env node
// Runs the whole vitest suite and ends the output with the plain line CI reads: `N passed, N failed`.
// Extra arguments are passed to vitest (e.g. a file filter).
//
// A watchdog: vitest's pool has been seen, once in several runs, to leave a freshly forked worker idle forever
// (no CPU time, no test file loaded), so that the run never ends and CI only stops at its own limit. When vitest
// prints nothing for TRIBUTARY_TEST_STALL_MINUTES (default 10; the whole suite takes ~3), its process group is
// killed, what it said is kept (each test file's line), and the files it never reported run once more, in a
// fresh vitest. A file that stalls again counts as failed.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const STALL_MS = Number(process.env.TRIBUTARY_TEST_STALL_MINUTES ?? 10) * 60_000;
const filters = process.argv.slice(2);
mkdirSync('.vitest', { recursive: true });

/** The default reporter's line for a finished file: `✓ test/x.test.ts (3 tests | 1 failed) 40ms`. */
const FILE_LINE =
  /^\s*[✓×❯↓]\s+(test\/\S+\.test\.ts)\s+\((\d+) tests?(?:\s*\|\s*(\d+) failed)?(?:\s*\|\s*(\d+) skipped)?/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are control characters
const ANSI = /\u001b\[[0-9;]*m/g;

/** The vitest being run: in a process group of its own (so that a stall can stop all of it), signals go to it. */
let running = null;
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    if (running) process.kill(-running.pid, signal);
    process.exit(130);
  });

/** Runs vitest on `args`; resolves with its exit code, whether it stalled, and the files it reported. */
function vitest(args, resultFile) {
  rmSync(resultFile, { force: true });
  const child = spawn(
    'npx',
    ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultFile}`, ...args],
    { stdio: ['inherit', 'pipe', 'pipe'], detached: true },
  );
  running = child;
  const reported = new Map();
  let stalled = false;
  let pending = '';
  let timer;
  const watch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      console.error(`\ntest runner: vitest printed nothing for ${STALL_MS / 60_000} min; stopping it`);
      process.kill(-child.pid, 'SIGKILL');
    }, STALL_MS);
  };
  const forward = (out) => (chunk) => {
    out.write(chunk);
    watch();
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const match = FILE_LINE.exec(line.replace(ANSI, ''));
      if (match)
        reported.set(match[1], {
          tests: Number(match[2]),
          failed: Number(match[3] ?? 0),
          skipped: Number(match[4] ?? 0),
        });
    }
  };
  child.stdout.on('data', forward(process.stdout));
  child.stderr.on('data', forward(process.stderr));
  watch();
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stalled, reported });
    });
  });
}

/** What a run that wrote no report counts as. */
const BROKEN_RUN = { passed: 0, failed: 1, skipped: 0 };

/** The counts of a finished run, from vitest's JSON report (or null when it wrote none). */
function countsOf(resultFile) {
  try {
    const results = JSON.parse(readFileSync(resultFile, 'utf8'));
    return {
      passed: results.numPassedTests,
      // A failing test also fails its describe block and file: count suites only when they broke with no test
      // failing (an import error, a crash in a hook).
      failed: results.numFailedTests || (results.numFailedTestSuites ?? 0),
      skipped: results.numPendingTests + results.numTodoTests,
    };
  } catch {
    return null;
  }
}

/** The counts of a stalled run, from the lines of the files it finished. */
function countsOfLines(reported) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const file of reported.values()) {
    counts.passed += file.tests - file.failed - file.skipped;
    counts.failed += file.failed;
    counts.skipped += file.skipped;
  }
  return counts;
}

/** The suite's test files that the filters select (vitest's filters match part of the path). */
function testFiles(dir = 'test') {
  const files = readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? testFiles(join(dir, entry.name))
      : entry.name.endsWith('.test.ts')
        ? [join(dir, entry.name)]
        : [],
  );
  return dir === 'test' && filters.length
    ? files.filter((file) => filters.some((filter) => file.includes(filter)))
    : files;
}

const first = await vitest(filters, '.vitest/results.json');
let counts;
let code = first.code;
if (!first.stalled) {
  counts = countsOf('.vitest/results.json') ?? BROKEN_RUN;
} else {
  counts = countsOfLines(first.reported);
  const missing = testFiles().filter((file) => !first.reported.has(file));
  console.error(`test runner: running again the files vitest did not finish: ${missing.join(', ')}`);
  let more = { passed: 0, failed: 0, skipped: 0 };
  if (missing.length) {
    const second = await vitest(missing, '.vitest/results-retry.json');
    if (second.stalled) {
      more = countsOfLines(second.reported);
      more.failed += 1; // the file that stalled twice
    } else more = countsOf('.vitest/results-retry.json') ?? BROKEN_RUN;
  }
  counts = {
    passed: counts.passed + more.passed,
    failed: counts.failed + more.failed,
    skipped: counts.skipped + more.skipped,
  };
  code = counts.failed ? 1 : 0;
}
if (code !== 0 && counts.failed === 0) counts.failed = 1; // no report: the run itself broke
console.log(
  `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`,
);
process.exit(code);
