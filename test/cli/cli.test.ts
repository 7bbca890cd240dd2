/** The CLI as a user runs it: the built bin in a child process, exit codes and messages. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTrainingSet } from '../offline/training-files.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/tributary.js');

function tributary(args: string[], cwd: string) {
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8' });
}

describe('tributary CLI', () => {
  it('init writes a starter project that validate accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-'));
    expect(tributary(['init', 'shop'], dir).status).toBe(0);
    expect(existsSync(join(dir, 'shop/tributary.yaml'))).toBe(true);
    const validate = tributary(['validate', '--project', 'shop'], dir);
    expect(validate.status).toBe(0);
    expect(validate.stdout).toMatch(
      /tributary\.yaml is valid: 2 entities, 1 stream, 1 table, 2 feature groups \(13 features\), 1 view; plan [0-9a-f]{16}/,
    );
    const again = tributary(['init', 'shop'], dir);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exists; use --force');
  });

  it('validate prints each problem with its place and exits non-zero', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-'));
    tributary(['init'], dir);
    const file = join(dir, 'tributary.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('window: 10m', 'window: ten minutes')
        .replace('field: merchant.category', 'field: merchant.categry'),
    );
    const result = tributary(['validate'], dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(
      /tributary\.yaml:\d+:\d+ \(features\.customer_payments\.aggregations\.count_10m\.window\): bad window `ten minutes`/,
    );
    expect(result.stdout).toContain('did you mean `merchant.category`?');
    expect(result.stderr).toContain('2 problems; fix them');
    const json = JSON.parse(tributary(['validate', '--json'], dir).stdout);
    expect(json.ok).toBe(false);
    expect(json.problems).toHaveLength(2);
  });

  it('validate says what to do in a folder without definitions', () => {
    const result = tributary(['validate'], mkdtempSync(join(tmpdir(), 'tributary-')));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Run `tributary init`');
  });

  it('rejects bad arguments with usage help', () => {
    const result = tributary(['demo', '--customers', 'many'], root);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('expected a whole number above 0');
  });

  it('demo runs end to end: ingest, online state, HTTP reads, a training set, online = offline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-'));
    const result = tributary(['demo', '--customers', '400', '--days', '7', '--json'], dir);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.duplicates).toBeGreaterThan(0);
    expect(report.late).toBeGreaterThan(0);
    expect(report.rejected).toEqual({
      missing_key: 1,
      ambiguous_time: 1,
      schema_violation: 1,
      malformed_json: 1,
    });
    expect(report.fraudRows).toBeGreaterThan(0);
    expect(report.live).toBeGreaterThan(50);
    expect(report.reproduced).toBe(report.live); // every served vector equals the as-served backfill
    expect(report.checkpointBytes).toBeGreaterThan(0);
    const count10m = report.separation.find((s: { feature: string }) => s.feature === 'count_10m');
    expect(count10m.fraud).toBeGreaterThan(count10m.legitimate);
    const rows = await readTrainingSet(join(dir, report.trainingFile));
    expect(rows).toHaveLength(report.trainingRows);
    expect(Object.keys(rows[0]!)).toEqual(
      expect.arrayContaining(['customerId', 'ts', 'fraud', 'count_10m', 'distance_km']),
    );
    // The project stays, to explore.
    expect(existsSync(join(dir, report.dir, 'tributary.yaml'))).toBe(true);
  });
});
