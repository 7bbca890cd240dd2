/**
 * Disk failures, injected with a file handle that fails on demand (a unit-test double of a full or failing
 * disk): a full disk refuses the batch and leaves the log writable; an fsync failure stops the writer for good.
 * Nothing acknowledged is harmed either way.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import { failingDisk } from '../fixtures/failing-disk.js';

const record = (i: number) => ({ key: 'c1', value: Buffer.from(`payment-${i}`), arrivalTime: i });

describe('a failing disk', () => {
  it('when full, refuses the batch with DISK_FULL, cuts the partial write and stays writable', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-disk-'));
    const disk = failingDisk();
    const log = await EmbeddedLog.open(root, { partitions: 1, openForWrite: disk.openForWrite });
    await log.append('payments', [record(1), record(2)]);
    const segment = join(root, 'payments', '0', `${'0'.repeat(20)}.log`);
    const durable = statSync(segment).size;
    disk.state.noSpace = true;
    await expect(log.append('payments', [record(3)])).rejects.toMatchObject({
      code: 'TRIBUTARY_LOG_DISK_FULL',
    });
    expect(statSync(segment).size).toBe(durable); // the partial bytes were cut off
    disk.state.noSpace = false; // space freed
    expect((await log.append('payments', [record(4)]))[0]!.offset).toBe(2);
    await log.close();
    const reopened = await EmbeddedLog.open(root);
    expect(reopened.recovery).toEqual([]);
    expect((await reopened.read('payments', 0, 0, 10)).map((r) => Buffer.from(r.value).toString())).toEqual([
      'payment-1',
      'payment-2',
      'payment-4',
    ]);
    await reopened.close();
  });

  it('when fsync fails, stops the writer for good (never retried) and keeps what was acknowledged', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tributary-disk-'));
    const disk = failingDisk();
    const log = await EmbeddedLog.open(root, { partitions: 1, openForWrite: disk.openForWrite });
    await log.append('payments', [record(1)]);
    disk.state.syncFails = true;
    await expect(log.append('payments', [record(2)])).rejects.toMatchObject({
      code: 'TRIBUTARY_LOG_WRITER_FAILED',
    });
    disk.state.syncFails = false; // even if the disk recovers, this writer does not lie about durability
    await expect(log.append('payments', [record(3)])).rejects.toMatchObject({
      code: 'TRIBUTARY_LOG_WRITER_FAILED',
    });
    await log.close();
    const reopened = await EmbeddedLog.open(root);
    const values = (await reopened.read('payments', 0, 0, 10)).map((r) => Buffer.from(r.value).toString());
    expect(values[0]).toBe('payment-1'); // the acknowledged record; record 2 may or may not have reached the disk
    expect(values).not.toContain('payment-3');
    await reopened.close();
  });
});
