/**
 * `tributary backfill` as a user runs it: from the project's log after `tributary ingest`, from files with
 * `--events`, every error path with its message and exit code, and a history far larger than the JavaScript
 * heap under a small `--max-old-space-size`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { RISK_YAML } from '../fixtures/risk.js';
import { parquetKeyValues, readTrainingSet, writeRows } from '../offline/training-files.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/tributary.js');
const tributary = (args: string[], cwd: string, nodeArgs: string[] = []) =>
  spawnSync(process.execPath, [...nodeArgs, bin, ...args], { cwd, encoding: 'utf8' });

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-backfill-cli-'));
  writeFileSync(join(dir, 'tributary.yaml'), RISK_YAML);
  return dir;
}

async function files(dir: string) {
  const events = join(dir, 'payments.ndjson');
  await writeRows(
    events,
    [1, 2, 3].map((i) => ({ paymentId: `p${i}`, customerId: 'c1', ts: T0 + i * MINUTE, amount: i * 10 })),
    'ndjson',
  );
  const spine = join(dir, 'spine.csv');
  await writeRows(
    spine,
    [
      { customerId: 'c1', ts: T0 + 10 * MINUTE, amount: 5, fraud: true },
      { customerId: 'c2', ts: T0 + 10 * MINUTE, amount: 5, fraud: false },
    ],
    'csv',
  );
  return { events, spine };
}

describe('tributary backfill', () => {
  it('reads the project log filled by `tributary ingest`, and prints a summary (or JSON)', async () => {
    const dir = project();
    const { events, spine } = await files(dir);
    expect(tributary(['ingest', 'payments', events], dir).status).toBe(0);
    const run = tributary(['backfill', '--view', 'risk', '--spine', spine, '--out', 'train.parquet'], dir);
    expect(run.stderr + run.stdout).toMatch(
      /train\.parquet: 2 rows, 3 events read, 0 rejected, [\d.]+ s \(view risk, event time, plan [0-9a-f]{16}\)/,
    );
    expect(run.status).toBe(0);
    const rows = await readTrainingSet(join(dir, 'train.parquet'));
    expect(rows.map((r) => [r.customerId, r.fraud, r.count_1h, r.amount_sum_1d])).toEqual([
      ['c1', true, 3, 60],
      ['c2', false, 0, 0],
    ]);
    const positions = JSON.parse(
      (await parquetKeyValues(join(dir, 'train.parquet')))['tributary.log_positions']!,
    );
    expect(Object.keys(positions)).toEqual(['payments']);
    const json = tributary(
      ['backfill', '--view', 'risk', '--spine', spine, '--out', 'train.csv', '--json', '--as-served'],
      dir,
    );
    expect(json.status).toBe(0);
    // Everything was ingested just now, after the spine's times: as served, nothing had arrived.
    expect(JSON.parse(json.stdout)).toMatchObject({ rows: 2, eventsRead: 3, asServed: true });
    expect(readFileSync(join(dir, 'train.csv'), 'utf8').split('\n')[1]).toMatch(
      /^c1,\d+,5,true,0,0(\.0)?,,\[\],,/,
    );
  });

  it('reads history from --events files and globs, and reports refused events', async () => {
    const dir = project();
    const { spine } = await files(dir);
    writeFileSync(
      join(dir, 'part-1.ndjson'),
      `${JSON.stringify({ paymentId: 'p1', customerId: 'c1', ts: T0, amount: 1 })}\n{not json\n`,
    );
    writeFileSync(
      join(dir, 'part-2.ndjson'),
      `${JSON.stringify({ paymentId: 'p2', customerId: 'c1', ts: T0 + 1, amount: 2 })}\n`,
    );
    const run = tributary(
      [
        'backfill',
        '--view',
        'risk',
        '--spine',
        spine,
        '--out',
        'out.ndjson',
        '--events',
        'payments=part-*.ndjson',
      ],
      dir,
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('2 events read, 1 rejected');
    expect(run.stdout).toContain('rejects with their reasons: out.ndjson.rejects.ndjson');
    const reject = JSON.parse(readFileSync(join(dir, 'out.ndjson.rejects.ndjson'), 'utf8').trim());
    expect(reject).toMatchObject({ kind: 'history', stream: 'payments', line: 2, reason: 'malformed_json' });
  });

  it('says what is wrong and what to do, with a non-zero exit', async () => {
    const dir = project();
    const { events, spine } = await files(dir);
    const cases: [string[], RegExp][] = [
      [['--view', 'nope'], /unknown view `nope`; known: risk/],
      [['--view', 'risk', '--spine', 'missing.csv'], /no such spine file: missing\.csv/],
      [['--view', 'risk', '--out', 'no/such/dir/out.parquet'], /the output's folder does not exist/],
      [['--view', 'risk', '--time', 'when'], /has no column `when`/],
      [['--view', 'risk', '--key', 'customer'], /--key customer: expected <entity>=<column>/],
      [['--view', 'risk', '--key', 'merchant=m'], /--key merchant=…: the view `risk` has entities customer/],
      [['--view', 'risk', '--events', 'payments=none-*.ndjson'], /no file matches none-\*\.ndjson/],
      [['--view', 'risk', '--events', `refunds=${events}`], /the view `risk` does not read `refunds`/],
      [
        ['--view', 'risk', '--events', `payments=${events}`, '--as-served'],
        /as-served view needs arrival times/,
      ],
    ];
    for (const [args, message] of cases) {
      const full = ['backfill', '--spine', spine, '--out', 'out.parquet', ...args];
      const run = tributary(full, dir);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.status, args.join(' ')).not.toBe(0);
    }
    writeFileSync(join(dir, 'bad-spine.csv'), 'customerId,ts\nc1,1767225600000\nc1,yesterday\n');
    const bad = tributary(
      [
        'backfill',
        '--view',
        'risk',
        '--spine',
        'bad-spine.csv',
        '--out',
        'o.parquet',
        '--events',
        `payments=${events}`,
      ],
      dir,
    );
    expect(bad.stderr).toMatch(/bad-spine\.csv, row 2: `ts` = "yesterday" is not ISO-8601.*--skip-invalid/);
    expect(bad.status).toBe(1);
  });

  it('backfills a history far larger than the JavaScript heap, under --max-old-space-size=64', async () => {
    const dir = project();
    const events = join(dir, 'big.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    // 3M events (as JavaScript objects, well over a gigabyte), 2,000 customers.
    await connection.run(`COPY (SELECT 'p' || i AS paymentId, 'c' || (i % 2000) AS customerId,
      ${T0} + i * 100 AS ts, (i % 1000)::DOUBLE AS amount FROM range(3000000) r(i)) TO '${events}' (FORMAT parquet)`);
    await connection.run(`COPY (SELECT 'c' || (j % 2000) AS customerId, ${T0} + j * 150000 AS ts FROM range(2000) r(j))
      TO '${join(dir, 'spine.parquet')}' (FORMAT parquet)`);
    connection.closeSync();
    const run = tributary(
      [
        'backfill',
        '--view',
        'risk',
        '--spine',
        'spine.parquet',
        '--out',
        'out.parquet',
        '--events',
        `payments=${events}`,
        '--memory',
        '200MB',
        '--json',
      ],
      dir,
      ['--max-old-space-size=64'],
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rows: 2000, eventsRead: 3_000_000, rejected: 0 });
    const rows = await readTrainingSet(join(dir, 'out.parquet'));
    // Customer c(j) at t = T0 + j·150 s has one event every 200 s: in the hour before, 18 events (when j·150 s ≥ 1 h).
    expect(rows[1999]!.count_1h).toBe(18);
  }, 180_000);
});
