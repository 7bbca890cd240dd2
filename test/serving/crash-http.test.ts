/**
 * Crash safety of HTTP ingest: the server runs in a child process, this process sends NDJSON batches, and the
 * server is killed with SIGKILL at a random moment, again and again on the same log. After each kill, every
 * event acknowledged with a 200 must be in the log exactly once, with its checksum intact; events sent again
 * after the restart are counted as duplicates, not stored twice. TRIBUTARY_CRASH_TRIALS kills (10 in CI).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';

const TRIALS = Number(process.env.TRIBUTARY_CRASH_TRIALS ?? 10);
const server = new URL('./crash-server.ts', import.meta.url).pathname;

function start(root: string): Promise<{ child: ChildProcess; port: number; exited: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', server, root], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Created now: the child may exit before anyone waits for it.
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /ready (\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]), exited });
    });
    child.stderr!.on('data', (chunk) => (err += chunk));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`server exited (${code}): ${err}`));
    });
  });
}

const event = (id: string) =>
  JSON.stringify({
    paymentId: id,
    customerId: `c${id.length % 9}`,
    merchantId: 'm1',
    ts: Date.now() - 1000,
    amount: 100,
  });

async function storedIds(root: string): Promise<Map<string, number>> {
  const log = await EmbeddedLog.open(root);
  const counts = new Map<string, number>();
  for (let p = 0; p < log.partitions('payments'); p++) {
    const records = await log.read('payments', p, 0, Number.MAX_SAFE_INTEGER);
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    for (const r of records) {
      const id = (JSON.parse(Buffer.from(r.value).toString()) as { f: { paymentId: string } }).f.paymentId;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  await log.close();
  return counts;
}

describe('HTTP ingest under SIGKILL', () => {
  it(
    `keeps every acknowledged event exactly once over ${TRIALS} kills`,
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'tributary-crash-http-'));
      const acknowledged: string[] = [];
      let next = 0;
      for (let trial = 0; trial < TRIALS; trial++) {
        const { child, port, exited } = await start(root);
        const url = `http://127.0.0.1:${port}/v1/streams/payments/events`;
        // Resend a few events acknowledged before the last kill: they must count as duplicates.
        const resent = acknowledged.slice(-5);
        if (resent.length) {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson' },
            body: resent.map(event).join('\n'),
          });
          expect(await response.json()).toMatchObject({ accepted: 0, duplicates: resent.length });
        }
        setTimeout(() => child.kill('SIGKILL'), 20 + Math.random() * 300);
        const senders = Array.from({ length: 4 }, async () => {
          for (;;) {
            const ids = Array.from({ length: 1 + Math.floor(Math.random() * 200) }, () => `e${next++}`);
            try {
              const response = await fetch(url, {
                method: 'POST',
                headers: { 'content-type': 'application/x-ndjson' },
                body: ids.map(event).join('\n'),
              });
              const body = (await response.json()) as { accepted: number; rejected: unknown[] };
              if (response.status === 200) {
                expect(body.rejected).toEqual([]);
                acknowledged.push(...ids);
              }
            } catch {
              return; // the server is gone: whatever was not acknowledged may or may not be stored
            }
          }
        });
        await Promise.all(senders);
        await exited;
        const stored = await storedIds(root);
        // One assertion per trial, not one per event: the list grows with every trial.
        const missing = acknowledged.filter((id) => stored.get(id) !== 1);
        expect(missing, `acknowledged but not stored exactly once (trial ${trial})`).toEqual([]);
        const twice = [...stored].filter(([, count]) => count !== 1).map(([id]) => id);
        expect(twice, `stored more than once (trial ${trial})`).toEqual([]);
      }
      expect(acknowledged.length).toBeGreaterThan(TRIALS);
      console.log(
        `HTTP crash test: ${TRIALS} kills, ${acknowledged.length} acknowledged events all stored once`,
      );
    },
    Math.max(600_000, TRIALS * 15_000),
  ); // a trial takes seconds, more when the three crash tests share two cores
});
