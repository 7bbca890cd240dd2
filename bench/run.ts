/**
 * `npm run bench -- <suite>`: runs one benchmark suite, prints a table and writes bench/results/<suite>.json
 * (a flat object of metric → number or boolean). Suites live in bench/suites/<suite>.ts.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';

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
const metrics = await run((line) => console.log(line));
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
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const out = new URL(`./results/${suite}.json`, import.meta.url);
writeFileSync(out, `${JSON.stringify(metrics, null, 2)}\n`);
console.log(`\nwritten: bench/results/${suite}.json`);
