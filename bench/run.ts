/**
 * `npm run bench -- <suite>`: runs one benchmark suite, prints a table and writes bench/results/<suite>.json
 * (a flat object of metric → number or boolean). Suites live in bench/suites/<suite>.ts. Every result records
 * the VM's guest halt polling, and BENCH_GUEST_HALT_POLL_NS sets it for the run (bench/guest-halt-poll.ts).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyGuestHaltPoll, guestHaltPollMetric } from './guest-halt-poll.js';

export type Metrics = Record<string, number | boolean>;

const suite = process.argv[2];
const suites = readdirSync(new URL('./suites/', import.meta.url))
  .filter((f) => /\.(ts|js)$/.test(f))
  .map((f) => f.replace(/\.(ts|js)$/, ''));
if (!suite || !suites.includes(suite)) {
  console.error(`usage: npm run bench -- <suite>\nsuites: ${suites.join(', ')}`);
  process.exit(2);
}
const { run } = (await import(`./suites/${suite}.js`)) as {
  run: (log: (line: string) => void) => Promise<Metrics>;
};
const log = (line: string) => console.log(line);
let restoreGuestHaltPoll: () => void;
try {
  restoreGuestHaltPoll = applyGuestHaltPoll(log);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
let metrics: Metrics;
try {
  // Read while the suite's setting still holds.
  metrics = { ...(await run(log)), ...guestHaltPollMetric() };
} finally {
  restoreGuestHaltPoll();
}
const width = Math.max(...Object.keys(metrics).map((k) => k.length));
console.log(`\n${'metric'.padEnd(width)}  value`);
for (const [name, value] of Object.entries(metrics)) {
  const shown =
    typeof value === 'number'
      ? Number.isInteger(value)
        ? value.toLocaleString('en-US')
        : value.toPrecision(4)
      : String(value);
  console.log(`${name.padEnd(width)}  ${shown}`);
}
// npm runs scripts from the package root; the compiled runner lives in .bench-build/, the results in bench/.
const resultsDir = join(process.cwd(), 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const out = join(resultsDir, `${suite}.json`);
writeFileSync(out, `${JSON.stringify(metrics, null, 2)}\n`);
console.log(`\nwritten: bench/results/${suite}.json`);
