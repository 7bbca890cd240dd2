/** `tributary ingest` and `tributary dead-letters` as a user runs them, on files of every format. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/tributary.js');
const tributary = (args: string[], cwd: string) =>
  spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ingest-'));
  expect(tributary(['init'], dir).status).toBe(0);
  return dir;
}

const row = (id: string, ts: string | number, amount: unknown = 100) => ({
  paymentId: id,
  customerId: 'c1',
  merchantId: 'm1',
  ts,
  amount,
});

async function storedIds(dir: string): Promise<string[]> {
  const log = await EmbeddedLog.open(join(dir, '.tributary/log'));
  const ids: string[] = [];
  for (let p = 0; p < log.partitions('payments'); p++)
    for (const r of await log.read('payments', p, 0, 1e9))
      ids.push(JSON.parse(Buffer.from(r.value).toString()).f.paymentId);
  await log.close();
  return ids.sort();
}

describe('tributary ingest', () => {
  it('loads NDJSON, CSV and Parquet, de-duplicates across files and reports refusals with file and line', async () => {
    const dir = project();
    writeFileSync(
      join(dir, 'a.ndjson'),
      `${[row('p1', '2026-01-01T00:00:00Z'), row('p2', '2026-01-01T00:01:00')].map((r) => JSON.stringify(r)).join('\n')}\n\n{oops\n`,
    );
    writeFileSync(
      join(dir, 'b.csv'),
      'paymentId,customerId,merchantId,ts,amount,lat,lon\np3,c1,m1,1767225600000,250,48.85,\np1,c1,m1,1767225600000,1,,\np4,c1,m1,2026-01-01T00:00:00Z,abc,,\n',
    );
    const duck = await DuckDBInstance.create(':memory:');
    const connection = await duck.connect();
    await connection.run(
      `COPY (SELECT 'p5' AS paymentId, 'c1' AS customerId, 'm1' AS merchantId, 1767225600000::BIGINT AS ts, 75.5 AS amount) TO '${join(dir, 'c.parquet')}' (FORMAT parquet)`,
    );
    connection.closeSync();
    const result = tributary(['ingest', 'payments', 'a.ndjson', 'b.csv', 'c.parquet', '--json'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      events: 7,
      accepted: 3,
      duplicates: 1,
      rejected: 3,
      rejectedByReason: { ambiguous_time: 1, malformed_json: 1, schema_violation: 1 },
    });
    expect(await storedIds(dir)).toEqual(['p1', 'p3', 'p5']);
    const letters = tributary(['dead-letters', 'payments'], dir);
    expect(letters.stdout).toContain('ambiguous_time');
    expect(letters.stdout).toContain('(a.ndjson:4)'); // the blank line is counted
    expect(letters.stdout).toContain('(b.csv:4)');
    const json = JSON.parse(
      tributary(['dead-letters', 'payments', '--reason', 'malformed_json', '--json'], dir).stdout,
    );
    expect(json.letters).toHaveLength(1);
    expect(json.counts).toEqual({ ambiguous_time: 1, malformed_json: 1, schema_violation: 1 });
  });

  it('refuses an unknown stream or file format before writing anything, with a hint', () => {
    const dir = project();
    writeFileSync(join(dir, 'a.ndjson'), '{}\n');
    writeFileSync(join(dir, 'a.txt'), '{}\n');
    const stream = tributary(['ingest', 'paymnts', 'a.ndjson'], dir);
    expect(stream.status).toBe(1);
    expect(stream.stderr).toContain('did you mean `payments`?');
    const format = tributary(['ingest', 'payments', 'a.txt'], dir);
    expect(format.status).toBe(1);
    expect(format.stderr).toContain('name it .ndjson, .jsonl, .csv or .parquet');
  });

  it('replays dead letters after the definitions are fixed', async () => {
    const dir = project();
    writeFileSync(join(dir, 'a.ndjson'), `${JSON.stringify(row('p9', 1767225600000, '12.5'))}\n`);
    expect(JSON.parse(tributary(['ingest', 'payments', 'a.ndjson', '--json'], dir).stdout).rejected).toBe(1);
    const yaml = join(dir, 'tributary.yaml');
    const { readFileSync } = await import('node:fs');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8').replace(
        'amount: { type: number, description: "in cents" }',
        'amount: { type: [number, string] }',
      ),
    );
    const replay = tributary(['dead-letters', 'payments', '--replay'], dir);
    expect(replay.stdout).toContain('replayed 1 dead letter(s) of payments: 1 accepted');
    expect(await storedIds(dir)).toEqual(['p9']);
  });
});
