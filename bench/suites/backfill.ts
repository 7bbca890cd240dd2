/**
 * The offline engine against DuckDB on the same files in the same run: a payments history (10M events, 100k
 * customers, skewed so that a few hold 100k+ events, ~1% late) and a 1M-row spine; the event-time view of
 * `customer_risk` (12 features: counts, sums, min/max, mean/stddev, countDistinct, last, timeSinceLast over
 * windows from 10 minutes to 30 days). Each side is timed from input files to output Parquet file; every value is
 * compared within semantics.md's tolerance. Sizes can be lowered for a quick look with BENCH_EVENTS,
 * BENCH_SPINE_ROWS and BENCH_CUSTOMERS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { compileYaml } from '../../src/definitions/yaml.js';
import { backfill } from '../../src/engine/offline/backfill.js';
import { BACKFILL_YAML, ensureBackfillData } from '../backfill/data.js';
import { duckdbBackfill } from '../backfill/duckdb-peer.js';
import type { Metrics } from '../run.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const SPINE_ROWS = Number(process.env.BENCH_SPINE_ROWS ?? 1_000_000);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);

/** Rows where the two training sets disagree, per feature (integers exactly, doubles within the tolerance). */
async function disagreements(
  ours: string,
  theirs: string,
  features: readonly string[],
): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    // m of semantics.md's tolerance: at most the largest amount generated (100 + 50,000), a bound for every window.
    const checks = features
      .map(
        (f) =>
          `sum(CASE WHEN (a.${f} IS NULL) <> (b.${f} IS NULL) OR abs(a.${f} - b.${f}) > 1e-9 * greatest(abs(a.${f}), abs(b.${f}), 50100) THEN 1 ELSE 0 END)::DOUBLE AS ${f}`,
      )
      .join(', ');
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::DOUBLE AS rows, ${checks} FROM read_parquet('${ours}', file_row_number = true) a
       FULL JOIN read_parquet('${theirs}', file_row_number = true) b USING (file_row_number)`,
    );
    return reader.getRowObjects()[0] as Record<string, number>;
  } finally {
    connection.closeSync();
  }
}

export async function run(log: (line: string) => void): Promise<Metrics> {
  const root = join(process.cwd(), 'bench', 'data');
  const data = await ensureBackfillData(root, EVENTS, SPINE_ROWS, CUSTOMERS, log);
  const compiled = compileYaml(BACKFILL_YAML, 'bench/backfill.yaml');
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  // Both sides read warm files.
  readFileSync(data.events);
  readFileSync(data.spine);

  const oursOut = join(data.dir, 'training-ours.parquet');
  const duckdbOut = join(data.dir, 'training-duckdb.parquet');
  log(
    `ours: backfill of ${EVENTS.toLocaleString('en-US')} events, ${SPINE_ROWS.toLocaleString('en-US')} spine rows…`,
  );
  let begin = performance.now();
  const summary = await backfill({
    plan: compiled.plan,
    view: 'customer_risk',
    spine: data.spine,
    out: oursOut,
    history: { kind: 'files', files: { payments: [data.events] } },
  });
  const oursSeconds = (performance.now() - begin) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  log(
    `  ${oursSeconds.toFixed(2)} s (${summary.eventsRead.toLocaleString('en-US')} events read, ${summary.rejected} rejected)`,
  );

  log('duckdb: window functions with RANGE frames over the union of events and spine…');
  begin = performance.now();
  await duckdbBackfill(data.events, data.spine, duckdbOut);
  const duckdbSeconds = (performance.now() - begin) / 1000;
  log(`  ${duckdbSeconds.toFixed(2)} s`);

  const features = compiled.plan.views.customer_risk!.features.map((f) => f.name);
  const diff = await disagreements(oursOut, duckdbOut, features);
  const wrong = features.filter((f) => diff[f] !== 0);
  if (wrong.length) log(`values differ in: ${wrong.map((f) => `${f} (${diff[f]} rows)`).join(', ')}`);
  return {
    events: EVENTS,
    spine_rows: SPINE_ROWS,
    values_equal: wrong.length === 0 && diff.rows === SPINE_ROWS,
    ours_s: oursSeconds,
    duckdb_s: duckdbSeconds,
    ratio_vs_duckdb: duckdbSeconds / oursSeconds,
    peak_rss_bytes: peakRss,
  };
}
