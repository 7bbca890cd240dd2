import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddedLog } from '../../src/log/embedded/embedded-log.js';
import {
  decodeRecord,
  encodedSize,
  encodeRecord,
  forEachRecord,
} from '../../src/log/embedded/record-format.js';
import { LogError } from '../../src/log/log.js';
import { murmur2, partitionOf } from '../../src/log/murmur2.js';

const temp = () => mkdtempSync(join(tmpdir(), 'tributary-log-'));
const value = (text: string) => Buffer.from(text, 'utf8');
const records = (from: number, count: number, key = (i: number) => `c${i % 7}`) =>
  Array.from({ length: count }, (_, i) => ({
    key: key(from + i),
    value: value(`payment-${from + i}`),
    arrivalTime: 1_000 + from + i,
  }));

async function readAll(log: EmbeddedLog, stream: string) {
  const out: { key: string; value: string; offset: number; sequence: number; partition: number }[] = [];
  for (let p = 0; p < log.partitions(stream); p++) {
    for (const r of await log.read(stream, p, 0, 1_000_000))
      out.push({
        key: r.key,
        value: Buffer.from(r.value).toString(),
        offset: r.offset,
        sequence: r.sequence,
        partition: p,
      });
  }
  return out.sort((a, b) => a.sequence - b.sequence);
}

function segmentsOf(root: string, stream: string, partition: number): string[] {
  const dir = join(root, stream, String(partition));
  return readdirSync(dir)
    .filter((n) => n.endsWith('.log'))
    .sort()
    .map((n) => join(dir, n));
}

describe("murmur2 (Kafka's partitioner)", () => {
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
    ['', 275646681],
  ])('hashes %j like the Java client', (input, expected) => {
    expect(murmur2(Buffer.from(input))).toBe(expected);
  });

  it('maps keys to partitions as Kafka does', () => {
    expect(partitionOf('foobar', 50)).toBe(16);
  });

  it('hashes bytes inside a larger buffer as it hashes them alone', () => {
    const inside = Buffer.from('xxa-little-bit-longer-stringyy');
    expect(murmur2(inside, 26, 2)).toBe(-1486304829);
    expect(murmur2(inside, 3, 27)).toBe(murmur2(Buffer.from('gyy')));
  });
});

describe('record format', () => {
  it('round-trips and rejects a flipped bit or a short read', () => {
    const key = value('customer-1');
    const payload = value('{"amount":1250}');
    const buffer = Buffer.alloc(encodedSize(key.length, payload.length));
    const end = encodeRecord(buffer, 0, {
      offset: 7,
      sequence: 42,
      arrivalTime: 1767225600000,
      key,
      value: payload,
    });
    expect(end).toBe(buffer.length);
    const decoded = decodeRecord(buffer, 0)!;
    expect({ ...decoded, value: Buffer.from(decoded.value).toString() }).toEqual({
      offset: 7,
      sequence: 42,
      arrivalTime: 1767225600000,
      key: 'customer-1',
      value: '{"amount":1250}',
      end,
    });
    expect(decodeRecord(buffer.subarray(0, buffer.length - 1), 0)).toBeNull();
    for (const bit of [0, 5, 30, buffer.length * 8 - 1]) {
      const flipped = Buffer.from(buffer);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(decodeRecord(flipped, 0)).toBeNull();
    }
  });

  it('keeps offsets and sequences beyond 32 bits, as u64 little-endian', () => {
    const key = value('k');
    const buffer = Buffer.alloc(encodedSize(1, 1));
    const offset = 2 ** 40 + 5;
    const sequence = Number.MAX_SAFE_INTEGER;
    encodeRecord(buffer, 0, { offset, sequence, arrivalTime: 1, key, value: value('x') });
    expect(buffer.readBigUInt64LE(8)).toBe(BigInt(offset));
    expect(buffer.readBigUInt64LE(16)).toBe(BigInt(sequence));
    expect(decodeRecord(buffer, 0)).toMatchObject({ offset, sequence });
  });
});

describe('the embedded log', () => {
  it('stores each key of a batch whole, multi-byte ones included, in its own partition', async () => {
    const log = await EmbeddedLog.open(temp(), { partitions: 5 });
    const keys = ['c1', 'clé-ü', '日本-東京', '', 'k'.repeat(5_000), '🙂x', 'c1'];
    const batch = Array.from({ length: 700 }, (_, i) => ({
      key: keys[i % keys.length]!,
      value: value(`v${i}`),
      arrivalTime: i,
    }));
    const results = await log.append('payments', batch);
    for (const [i, r] of results.entries()) expect(r.partition).toBe(partitionOf(batch[i]!.key, 5));
    const stored = (await readAll(log, 'payments')).sort((x, y) => x.sequence - y.sequence);
    expect(stored.map((r) => [r.key, r.value])).toEqual(batch.map((r, i) => [r.key, `v${i}`]));
    await log.close();
  });

  it('appends durably, keeps an entity in one partition in order, and reads from any offset', async () => {
    const root = temp();
    const log = await EmbeddedLog.open(root, { partitions: 3 });
    const results = await log.append('payments', records(0, 100));
    expect(results.map((r) => r.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    for (const [i, r] of results.entries()) expect(r.partition).toBe(partitionOf(`c${i % 7}`, 3));
    const all = await readAll(log, 'payments');
    expect(all.map((r) => r.value)).toEqual(Array.from({ length: 100 }, (_, i) => `payment-${i}`));
    const p = results[50]!.partition;
    const fromMiddle = await log.read('payments', p, results[50]!.offset, 3);
    expect(Buffer.from(fromMiddle[0]!.value).toString()).toBe('payment-50');
    expect(fromMiddle).toHaveLength(3);
    await log.close();
  });

  it('rolls segments, reopens with the same offsets and sequence, and deletes old segments by retention', async () => {
    const root = temp();
    let log = await EmbeddedLog.open(root, { partitions: 1, segmentBytes: 2_000 });
    for (let batch = 0; batch < 10; batch++) await log.append('payments', records(batch * 20, 20));
    expect(segmentsOf(root, 'payments', 0).length).toBeGreaterThan(3);
    await log.close();
    log = await EmbeddedLog.open(root, { segmentBytes: 2_000 });
    expect(log.recovery).toEqual([]);
    expect(log.endOffset('payments', 0)).toBe(200);
    const [next] = await log.append('payments', records(200, 1));
    expect(next).toEqual({ partition: 0, offset: 200, sequence: 200 });
    expect((await log.read('payments', 0, 137, 2)).map((r) => r.offset)).toEqual([137, 138]);
    const before = segmentsOf(root, 'payments', 0).length;
    expect(log.enforceRetention(1_000 + 100)).toBeGreaterThan(0);
    const after = segmentsOf(root, 'payments', 0);
    expect(after.length).toBeLessThan(before);
    const first = (await log.read('payments', 0, 0, 1))[0]!;
    expect(first.offset).toBe(Number(after[0]!.split('/').pop()!.slice(0, 20)));
    await log.close();
  });

  it('reads the latest records from memory exactly as from the segment files', async () => {
    const root = temp();
    const big = (from: number, count: number) =>
      records(from, count).map((r) => ({ ...r, value: value(`${'x'.repeat(1_000)}-${r.arrivalTime}`) }));
    const log = await EmbeddedLog.open(root, { partitions: 1, segmentBytes: 3_000_000 });
    // ~6 MB over several batches: the oldest are past the in-memory tail and several segments are rolled.
    for (let batch = 0; batch < 12; batch++) await log.append('payments', big(batch * 500, 500));
    const windows = [
      [0, 10],
      [2_990, 20], // across a batch boundary
      [5_400, 1_000], // the latest batches: from memory
      [3_000, 3_000],
    ] as const;
    const live = await Promise.all(windows.map(([from, max]) => log.read('payments', 0, from, max)));
    // Records already read stay as they were while newer batches overwrite the memory they came from.
    for (let batch = 12; batch < 24; batch++) await log.append('payments', big(batch * 500, 500));
    await log.close();
    const fromFiles = await EmbeddedLog.open(root);
    for (const [i, [from, max]] of windows.entries()) {
      const expected = await fromFiles.read('payments', 0, from, Math.min(max, 6_000 - from));
      expect(expected.length).toBe(Math.min(max, 6_000 - from));
      expect(live[i]!.map((r) => [r.offset, r.sequence, r.key, Buffer.from(r.value).toString()])).toEqual(
        expected.map((r) => [r.offset, r.sequence, r.key, Buffer.from(r.value).toString()]),
      );
    }
    await fromFiles.close();
  });

  it('hands out whole records as bytes, cut on record boundaries, across segments and from any offset', async () => {
    const root = temp();
    const log = await EmbeddedLog.open(root, { partitions: 1, segmentBytes: 50_000 });
    for (let batch = 0; batch < 20; batch++) await log.append('payments', records(batch * 150, 150));
    const total = 3_000;
    for (const [start, maxBytes] of [
      [0, 4_096],
      [17, 1_000], // not on an index point; fewer bytes than two index points hold
      [1_234, 30_000],
      [2_999, 100_000],
    ] as const) {
      const seen: [number, number, string][] = [];
      let offset: number = start;
      let chunks = 0;
      while (offset < total) {
        const chunk = await log.readBytes('payments', 0, offset, maxBytes);
        if (!chunk) break;
        chunks++;
        expect(chunk.firstOffset).toBeLessThanOrEqual(offset);
        expect(chunk.endOffset).toBeGreaterThan(offset);
        const data = Buffer.from(chunk.bytes);
        let next = chunk.firstOffset;
        const stopped = forEachRecord(data, (at, sequence, valueStart, valueEnd) => {
          expect(at).toBe(next++);
          if (at >= offset) seen.push([at, sequence, data.toString('utf8', valueStart, valueEnd)]);
        });
        expect(stopped).toBe(data.length); // whole records only
        expect(next).toBe(chunk.endOffset);
        offset = chunk.endOffset;
      }
      expect(await log.readBytes('payments', 0, total, maxBytes)).toBeNull();
      expect(seen).toEqual(
        Array.from({ length: total - start }, (_, i) => [start + i, start + i, `payment-${start + i}`]),
      );
      if (start === 0) expect(chunks).toBeGreaterThan(20); // more than one per segment: cut inside them too
    }
    // A flipped bit inside a chunk stops the scan there.
    const chunk = (await log.readBytes('payments', 0, 0, 4_096))!;
    const data = Buffer.from(chunk.bytes);
    data[data.length - 3]! ^= 1;
    let visited = 0;
    expect(forEachRecord(data, () => visited++)).toBeLessThan(data.length);
    expect(visited).toBe(chunk.endOffset - chunk.firstOffset - 1);
    await log.close();
  });

  it('tells its watchers of each append once its records are readable, and stops when told', async () => {
    const root = temp();
    const log = await EmbeddedLog.open(root, { partitions: 3 });
    const seen: { stream: string; readable: number }[] = [];
    const readable = (stream: string) => {
      let n = 0;
      for (let p = 0; p < log.partitions(stream); p++) n += log.endOffset(stream, p);
      return n;
    };
    const listener = (stream: string) => seen.push({ stream, readable: readable(stream) });
    const stop = log.watch(listener);
    const stopSecond = log.watch(listener); // the same function twice: two watchers
    await log.append('payments', records(0, 30));
    await log.append('refunds', records(0, 1));
    await new Promise((resolve) => setImmediate(resolve));
    // A call per partition written, for each watcher; every call sees all of its partition's records.
    const payments = seen.filter((s) => s.stream === 'payments');
    const partitionsWritten = new Set(records(0, 30).map((r) => partitionOf(r.key, 3))).size;
    expect(payments).toHaveLength(2 * partitionsWritten);
    expect(payments.at(-1)!.readable).toBe(30);
    expect(seen.filter((s) => s.stream === 'refunds')).toEqual([
      { stream: 'refunds', readable: 1 },
      { stream: 'refunds', readable: 1 },
    ]);
    stopSecond();
    seen.length = 0;
    await log.append('payments', records(30, 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([{ stream: 'payments', readable: 31 }]);
    stop();
    await log.append('payments', records(31, 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toHaveLength(1);
    await log.close();
  });

  it('keeps consumer positions across restarts', async () => {
    const root = temp();
    let log = await EmbeddedLog.open(root, { partitions: 2 });
    expect(log.committed('online', 'payments', 1)).toBe(0);
    await log.commit(
      'online',
      'payments',
      new Map([
        [0, 12],
        [1, 7],
      ]),
    );
    await log.commit('online', 'payments', new Map([[1, 9]]));
    await log.close();
    log = await EmbeddedLog.open(root);
    expect([log.committed('online', 'payments', 0), log.committed('online', 'payments', 1)]).toEqual([12, 9]);
    await log.close();
  });

  it('recovers a torn tail and a bit-flipped record, and reports what it cut', async () => {
    const root = temp();
    let log = await EmbeddedLog.open(root, { partitions: 1 });
    await log.append('payments', records(0, 10));
    await log.close();
    const [segment] = segmentsOf(root, 'payments', 0);
    const size = statSync(segment!).size;
    truncateSync(segment!, size - 5); // a crash in the middle of the last record
    log = await EmbeddedLog.open(root);
    expect(log.recovery).toEqual([
      { segment, validBytes: expect.any(Number), truncatedBytes: expect.any(Number) },
    ]);
    expect(log.endOffset('payments', 0)).toBe(9);
    await log.append('payments', records(10, 1));
    expect((await readAll(log, 'payments')).map((r) => r.value).slice(-2)).toEqual([
      'payment-8',
      'payment-10',
    ]);
    await log.close();
    // A flipped bit inside record 4: records 4.. are cut (their bytes cannot be trusted) and reported.
    const fd = openSync(segment!, 'r+');
    const position = Math.floor((statSync(segment!).size / 10) * 4.5);
    writeSync(fd, Buffer.from([0xff]), 0, 1, position);
    closeSync(fd);
    log = await EmbeddedLog.open(root);
    expect(log.recovery[0]!.truncatedBytes).toBeGreaterThan(0);
    expect(log.endOffset('payments', 0)).toBeLessThan(10);
    await log.close();
  });

  it('opens sealed segments from their record lengths; reads find a flipped bit in one, a bad length is cut', async () => {
    const root = temp();
    let log = await EmbeddedLog.open(root, { partitions: 1, segmentBytes: 1_000 });
    for (let batch = 0; batch < 10; batch++) await log.append('payments', records(batch * 10, 10));
    await log.close();
    const segments = segmentsOf(root, 'payments', 0);
    expect(segments.length).toBeGreaterThan(3);
    // A flipped bit in the value of a sealed segment's third record: opening does not check CRCs there.
    const third = (() => {
      const data = Buffer.alloc(statSync(segments[1]!).size);
      const fd = openSync(segments[1]!, 'r');
      readSync(fd, data, 0, data.length, 0);
      closeSync(fd);
      let at = 0;
      for (let k = 0; k < 2; k++) at = decodeRecord(data, at)!.end;
      return { at, end: decodeRecord(data, at)!.end };
    })();
    let fd = openSync(segments[1]!, 'r+');
    writeSync(fd, Buffer.from([0x21]), 0, 1, third.end - 2);
    closeSync(fd);
    log = await EmbeddedLog.open(root);
    expect(log.recovery).toEqual([]);
    expect(log.endOffset('payments', 0)).toBe(100);
    await expect(log.read('payments', 0, 0, 1_000)).rejects.toMatchObject({ code: 'TRIBUTARY_LOG_CORRUPT' });
    const secondBase = Number(segments[1]!.split('/').pop()!.slice(0, 20));
    const chunk = (await log.readBytes('payments', 0, secondBase, 1 << 20))!;
    expect(chunk.firstOffset).toBe(secondBase);
    expect(forEachRecord(Buffer.from(chunk.bytes), () => undefined)).toBe(third.at);
    // Records in the other segments read as before.
    const later = await log.read('payments', 0, 60, 1_000);
    expect(later.map((r) => Buffer.from(r.value).toString())).toEqual(
      Array.from({ length: 40 }, (_, i) => `payment-${60 + i}`),
    );
    await log.close();
    // A length that does not add up in a sealed segment: the full check cuts that segment there, and reports it.
    fd = openSync(segments[2]!, 'r+');
    writeSync(fd, Buffer.from([0xff, 0xff, 0xff, 0x7f]), 0, 4, 0);
    closeSync(fd);
    log = await EmbeddedLog.open(root);
    expect(log.recovery).toEqual([
      { segment: segments[2], validBytes: 0, truncatedBytes: expect.any(Number) },
    ]);
    await log.close();
  });

  it('refuses a second owner while the first is alive', async () => {
    const root = temp();
    const log = await EmbeddedLog.open(root);
    const fake = openSync(join(root, 'LOCK'), 'w');
    writeSync(fake, String(process.ppid)); // another live process
    closeSync(fake);
    await expect(EmbeddedLog.open(root)).rejects.toThrow(LogError);
    await log.close();
  });
});
