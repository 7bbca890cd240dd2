/**
 * Crash safety of the online state: the server ingests and serves in a child process and is killed with SIGKILL
 * at a random moment; after each restart (from its last checkpoint, replaying the log after it), the vector of
 * every customer must equal what the offline engine computes over the log, which holds every acknowledged event
 * exactly once (test/serving/crash-http.test.ts): no event applied twice, none lost. TRIBUTARY_CRASH_TRIALS
 * trials (10 in CI; `npm run test:crash` runs 100).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileYaml } from '../../src/definitions/yaml.js';
import { backfill } from '../../src/engine/offline/backfill.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { RISK_YAML } from '../fixtures/risk.js';
import { readTrainingSet } from '../offline/training-files.js';

const TRIALS = Number(process.env.TRIBUTARY_CRASH_TRIALS ?? 10);
const script = new URL('./crash-online-server.ts', import.meta.url).pathname;
const CUSTOMERS = 8;

function start(
  logDir: string,
  stateDir: string,
): Promise<{ child: ChildProcess; base: string; exited: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, logDir, stateDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let out = '';
    let err = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /ready (\d+)/.exec(out);
      if (match) resolve({ child, base: `http://127.0.0.1:${match[1]}`, exited });
    });
    child.stderr!.on('data', (chunk) => (err += chunk));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`server exited (${code}): ${err}`));
    });
  });
}

async function ready(base: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const response = await fetch(`${base}/readyz`).catch(() => null);
    if (response?.status === 200) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the restarted server never became ready');
}

let sequence = 0;
const batch = () =>
  Array.from({ length: 20 }, () => {
    const id = sequence++;
    return JSON.stringify({
      paymentId: `p${id}`,
      customerId: `c${id % CUSTOMERS}`,
      ts: Date.now() - ((id * 7919) % 1_800_000), // late by up to 30 minutes
      amount: (id % 50) + 1,
      lat: id % 3 === 0 ? null : (id % 90) - 45,
      lon: id % 3 === 0 ? null : (id % 180) - 90,
    });
  }).join('\n');

describe('online state survives SIGKILL', () => {
  it(
    `serves exactly the offline engine's vectors after ${TRIALS} kills`,
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'tributary-crash-online-'));
      const logDir = join(root, 'log');
      const stateDir = join(root, 'state');
      const compiled = compileYaml(RISK_YAML);
      if (!compiled.ok) throw new Error('fixture');
      for (let trial = 0; trial < TRIALS; trial++) {
        // Ingest and read until a random kill.
        let server = await start(logDir, stateDir);
        // The kill comes at a random moment after the first acknowledgement, so that every trial has some.
        let killed = false;
        let killer: NodeJS.Timeout | undefined;
        const traffic = async () => {
          while (!killed) {
            const ack = await fetch(`${server.base}/v1/streams/payments/events`, {
              method: 'POST',
              headers: { 'content-type': 'application/x-ndjson' },
              body: batch(),
            }).catch(() => null);
            if (ack?.ok && !killer)
              killer = setTimeout(() => {
                killed = true;
                server.child.kill('SIGKILL');
              }, Math.random() * 400);
            if (!ack) {
              killed = true; // the server is gone (or unreachable): make sure it is
              server.child.kill('SIGKILL');
            }
            await fetch(`${server.base}/v1/views/risk/c${trial % CUSTOMERS}`).catch(() => null);
          }
        };
        await Promise.all([traffic(), traffic()]);
        await server.exited;
        clearTimeout(killer);

        // Restart: checkpoint + replay. Read every customer with consistent=true, then kill again.
        server = await start(logDir, stateDir);
        await ready(server.base);
        const at = Date.now();
        const response = await fetch(`${server.base}/v1/views/risk/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            consistent: true,
            rows: Array.from({ length: CUSTOMERS }, (_, c) => ({ keys: { customer: `c${c}` }, at })),
          }),
        });
        expect(response.status).toBe(200);
        const { vectors } = (await response.json()) as { vectors: { features: Record<string, unknown> }[] };
        server.child.kill('SIGKILL');
        await server.exited;

        const spine = join(root, `spine-${trial}.ndjson`);
        writeFileSync(
          spine,
          Array.from({ length: CUSTOMERS }, (_, c) => JSON.stringify({ customerId: `c${c}`, ts: at })).join(
            '\n',
          ),
        );
        const out = join(root, `offline-${trial}.ndjson`);
        const log = await EmbeddedLog.open(logDir);
        try {
          await backfill({
            plan: compiled.plan,
            view: 'risk',
            spine,
            out,
            history: { kind: 'log', log },
            workers: 0,
          });
        } finally {
          await log.close();
        }
        const offline = await readTrainingSet(out);
        vectors.forEach((v, c) => {
          const { customerId: _k, ts: _t, ...expected } = offline[c]!;
          expect(JSON.parse(JSON.stringify(v.features)), `trial ${trial}, customer c${c}`).toEqual(expected);
        });
        expect(Number(offline[0]!.count_1h)).toBeGreaterThan(0);
      }
    },
    Math.max(600_000, TRIALS * 15_000),
  ); // a trial takes seconds, more when the three crash tests share two cores
});
