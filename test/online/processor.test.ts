/** The online processor: checkpoints carry the plan's hash; a changed definition is rebuilt from the log first. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compileYaml } from '../../src/definitions/yaml.js';
import { OnlineProcessor, RebuildingError } from '../../src/engine/online/processor.js';
import { Intake } from '../../src/ingest/intake.js';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { CheckpointStore } from '../../src/state/checkpoint-store.js';
import { RISK_YAML } from '../fixtures/risk.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-processor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = (yaml: string) => {
  const compiled = compileYaml(yaml);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  return compiled.plan;
};
const T0 = Date.UTC(2026, 0, 1);

describe('online processor', () => {
  it('restores a checkpoint of its plan, and rebuilds from the log, visibly, when the plan changed', async () => {
    const before = plan(RISK_YAML);
    const after = plan(
      RISK_YAML.replace(
        'count_1h:      { fn: count, window: 1h }',
        'count_1h:      { fn: count, window: 1h }\n      count_2h:      { fn: count, window: 2h }',
      ),
    );
    expect(after.hash).not.toBe(before.hash);
    const log = await EmbeddedLog.open(join(dir, 'log'));
    const checkpoints = new CheckpointStore(join(dir, 'state'));
    const intake = await Intake.open(before, log, { now: () => T0 + 10 * 3_600_000 });
    await intake.ingest(
      'payments',
      Array.from({ length: 50 }, (_, i) => ({
        value: { paymentId: `p${i}`, customerId: 'c1', ts: T0 + i * 60_000, amount: i },
      })),
    );
    const first = await OnlineProcessor.open({ plan: before, log, checkpoints });
    await first.catchUp();
    const at = T0 + 2 * 3_600_000;
    const expected = first.read('risk', { customer: 'c1' }, at);
    await first.checkpoint();

    const restored = await OnlineProcessor.open({ plan: before, log, checkpoints });
    expect(restored.status()).toMatchObject({ restoredFrom: 'checkpoint', behind: 0 });
    await restored.catchUp();
    expect(restored.status().applied).toBe(0); // nothing replayed: the checkpoint held it all
    expect(restored.read('risk', { customer: 'c1' }, at)).toEqual(expected);

    const changed = await OnlineProcessor.open({ plan: after, log, checkpoints });
    expect(changed.status()).toMatchObject({ restoredFrom: 'log', rebuilding: true, behind: 50 });
    expect(() => changed.read('risk', { customer: 'c1' }, at)).toThrow(RebuildingError);
    await changed.catchUp();
    expect(changed.status()).toMatchObject({ rebuilding: false, behind: 0, applied: 50 });
    expect(changed.read('risk', { customer: 'c1' }, at)).toEqual({ ...expected, count_2h: 50 });
    await log.close();
  });

  it('follows the embedded log as the log tells it of new records, without polling, until stopped', async () => {
    const riskPlan = plan(RISK_YAML);
    const log = await EmbeddedLog.open(join(dir, 'follow-log'));
    const intake = await Intake.open(riskPlan, log, { now: () => T0 + 10 * 3_600_000 });
    const payments = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        value: { paymentId: `p${from + i}`, customerId: 'c1', ts: T0 + (from + i) * 60_000, amount: 1 },
      }));
    await intake.ingest('payments', payments(0, 5));
    const processor = await OnlineProcessor.open({ plan: riskPlan, log });
    await processor.catchUp();
    processor.start(3_600_000); // a timer would tick once an hour: only the log's word can apply what follows
    await intake.ingest('payments', payments(5, 7)); // straight to the log: nobody calls notify()
    await vi.waitFor(() => expect(processor.status()).toMatchObject({ applied: 12, behind: 0 }), {
      timeout: 2_000,
    });
    // Appends to a stream it does not read (dead letters, idempotency records) do not wake it.
    const catchUp = vi.spyOn(processor, 'catchUp');
    await log.append('unread', [{ key: 'k', value: Buffer.from('x'), arrivalTime: T0 }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(catchUp).not.toHaveBeenCalled();
    await intake.ingest('payments', payments(12, 1));
    await vi.waitFor(() => expect(catchUp).toHaveBeenCalled(), { timeout: 2_000 });
    catchUp.mockRestore();
    await vi.waitFor(() => expect(processor.status()).toMatchObject({ applied: 13, behind: 0 }), {
      timeout: 2_000,
    });
    await processor.stop();
    await intake.ingest('payments', payments(13, 3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(processor.status()).toMatchObject({ applied: 13, behind: 3 });
    await log.close();
  });

  it('copies a checkpoint in steps with the event loop free between them, applying records during the copy but not into it', async () => {
    const riskPlan = plan(RISK_YAML);
    const log = await EmbeddedLog.open(join(dir, 'steps-log'));
    const checkpoints = new CheckpointStore(join(dir, 'steps-state'));
    const intake = await Intake.open(riskPlan, log, { now: () => T0 + 10 * 3_600_000 });
    const CUSTOMERS = 600;
    const payments = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        value: {
          paymentId: `p${from + i}`,
          customerId: `c${(from + i) % CUSTOMERS}`,
          ts: T0 + (from + i) * 1_000,
          amount: i,
        },
      }));
    await intake.ingest('payments', payments(0, 2 * CUSTOMERS));
    const processor = await OnlineProcessor.open({ plan: riskPlan, log, checkpoints, checkpointStep: 1 });
    await processor.catchUp();
    // Durable but not applied yet (the processor is not started): applied only when asked, below.
    await intake.ingest('payments', payments(2 * CUSTOMERS, 30));
    expect(processor.status().behind).toBe(30);
    // Counts the turns of the event loop until the checkpoint's manifest is encoded: one entity per step.
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    let atEncode = { turns: -1, behind: -1 };
    const encode = checkpoints.encode.bind(checkpoints);
    vi.spyOn(checkpoints, 'encode').mockImplementation((checkpoint) => {
      atEncode = { turns, behind: processor.status().behind };
      return encode(checkpoint);
    });
    const written = processor.checkpoint();
    // Queued behind the checkpoint's first steps, which fix the state and its positions; run during the copy.
    const applied = processor.catchUp();
    expect(await written).toBeGreaterThan(0);
    await applied;
    spinning = false;
    // A turn after each entity the copy takes in its own steps: all but the (at most 30) customers that the 30
    // records reach, which are copied just before they change.
    expect(atEncode.turns).toBeGreaterThanOrEqual(CUSTOMERS - 30);
    expect(atEncode.behind).toBe(0); // the 30 records were applied while the state was being copied
    const at = T0 + 3 * 3_600_000;
    const restored = await OnlineProcessor.open({ plan: riskPlan, log, checkpoints });
    expect(restored.status()).toMatchObject({ restoredFrom: 'checkpoint', behind: 30 }); // not into it
    await restored.catchUp();
    for (let c = 0; c < CUSTOMERS; c++)
      expect(restored.read('risk', { customer: `c${c}` }, at)).toEqual(
        processor.read('risk', { customer: `c${c}` }, at),
      );
    await log.close();
  });

  it('skips a checkpoint when nothing was applied since the one on disk, and writes one as soon as something was', async () => {
    const riskPlan = plan(RISK_YAML);
    const log = await EmbeddedLog.open(join(dir, 'skip-log'));
    const checkpoints = new CheckpointStore(join(dir, 'skip-state'));
    const intake = await Intake.open(riskPlan, log, { now: () => T0 + 10 * 3_600_000 });
    const payment = (i: number) => ({
      value: { paymentId: `p${i}`, customerId: 'c1', ts: T0 + i * 60_000, amount: 1 },
    });
    await intake.ingest('payments', [payment(0), payment(1)]);
    const first = await OnlineProcessor.open({ plan: riskPlan, log, checkpoints });
    await first.catchUp();
    expect(await first.checkpoint()).toBeGreaterThan(0); // built from the log: nothing on disk holds it
    const writtenAt = first.status().lastCheckpointAt;
    expect(await first.checkpoint()).toBe(0); // nothing applied since
    expect(first.status().lastCheckpointAt).toBe(writtenAt);
    await intake.ingest('payments', [payment(2)]);
    await first.catchUp();
    expect(await first.checkpoint()).toBeGreaterThan(0);

    const restored = await OnlineProcessor.open({ plan: riskPlan, log, checkpoints });
    await restored.catchUp();
    expect(restored.status()).toMatchObject({ restoredFrom: 'checkpoint', applied: 0 });
    expect(await restored.checkpoint()).toBe(0); // the checkpoint it was restored from is its state
    await intake.ingest('payments', [payment(3)]);
    await restored.catchUp();
    expect(await restored.checkpoint()).toBeGreaterThan(0);
    const again = await OnlineProcessor.open({ plan: riskPlan, log, checkpoints });
    await again.catchUp();
    expect(again.status().applied).toBe(0); // the last checkpoint held all four payments
    expect(again.read('risk', { customer: 'c1' }, T0 + 3_600_000)).toEqual(
      restored.read('risk', { customer: 'c1' }, T0 + 3_600_000),
    );
    await log.close();
  });
});
