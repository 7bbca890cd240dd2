/**
 * Crash safety of the embedded log: a writer in a child process is killed with SIGKILL at a random moment,
 * again and again on the same log. After each kill the log is reopened and every record the writer had
 * acknowledged must be there exactly once, checksums must hold, offsets must be contiguous, and the stream's
 * sequence must keep increasing. TRIBUTARY_CRASH_TRIALS sets the number of kills (10 in CI; `npm run test:crash`
 * runs 100).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';

const TRIALS = Number(process.env.TRIBUTARY_CRASH_TRIALS ?? 10);
const writer = new URL('./crash-writer.ts', import.meta.url).pathname;

/** Runs the writer until a random moment after it is ready, kills it, and returns the values it acknowledged. */
function runAndKill(root: string, runId: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, root, runId], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk) => {
      if (!output.includes('ready') && `${output}${chunk}`.includes('ready'))
        setTimeout(() => child.kill('SIGKILL'), 5 + Math.random() * 200);
      output += chunk;
    });
    child.stderr.on('data', (chunk) => (errors += chunk));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (${code}): ${errors}`));
      const complete = output.slice(0, output.lastIndexOf('\n') + 1);
      resolve(
        complete
          .split('\n')
          .filter((line) => line.startsWith('ack '))
          .map((line) => line.split(' ')[2]!),
      );
    });
    setTimeout(() => child.kill('SIGKILL'), 20_000); // never hang the suite
  });
}

describe('the embedded log under SIGKILL', () => {
  it(
    `keeps every acknowledged record exactly once over ${TRIALS} kills`,
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'tributary-crash-'));
      const acknowledged = new Set<string>();
      let truncations = 0;
      for (let trial = 0; trial < TRIALS; trial++) {
        for (const value of await runAndKill(root, `r${trial}`)) acknowledged.add(value);
        const log = await EmbeddedLog.open(root);
        truncations += log.recovery.length;
        const seen = new Map<string, number>();
        const sequences: number[] = [];
        for (let p = 0; p < log.partitions('payments'); p++) {
          const records = await log.read('payments', p, 0, Number.MAX_SAFE_INTEGER);
          expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i)); // contiguous, nothing half-written between
          for (const r of records) {
            const id = Buffer.from(r.value).toString().split('-').slice(0, 2).join('-');
            seen.set(id, (seen.get(id) ?? 0) + 1);
            sequences.push(r.sequence);
          }
        }
        // One assertion per trial, not one per record: the set grows with every trial.
        const missing = [...acknowledged].filter((id) => seen.get(id) !== 1);
        expect(missing, `acknowledged but not stored exactly once (after trial ${trial})`).toEqual([]);
        const twice = [...seen].filter(([, count]) => count !== 1).map(([id]) => id);
        expect(twice, `stored more than once (after trial ${trial})`).toEqual([]);
        expect(new Set(sequences).size).toBe(sequences.length);
        await log.close();
      }
      expect(acknowledged.size).toBeGreaterThan(TRIALS); // the writer really wrote between kills
      console.log(
        `crash test: ${TRIALS} kills, ${acknowledged.size} acknowledged records all present once, ${truncations} torn tails recovered`,
      );
    },
    Math.max(600_000, TRIALS * 15_000),
  ); // a trial takes seconds, more when the three crash tests share two cores
});
