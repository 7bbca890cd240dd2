/**
 * Kafka's default partitioner hash (murmur2, seed 0x9747b28c, as in the Java client), so a key lands in the
 * same partition in the embedded log and in Kafka.
 */
export function murmur2(data: Uint8Array, length = data.length, start = 0): number {
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const blocks = length >> 2;
  for (let i = 0; i < blocks; i++) {
    const o = start + i * 4;
    let k =
      (data[o]! & 0xff) |
      ((data[o + 1]! & 0xff) << 8) |
      ((data[o + 2]! & 0xff) << 16) |
      ((data[o + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = start + blocks * 4;
  switch (length & 3) {
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: murmur2 folds the tail bytes by falling through
    case 3:
      h ^= (data[tail + 2]! & 0xff) << 16;
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: as above
    case 2:
      h ^= (data[tail + 1]! & 0xff) << 8;
    case 1:
      h ^= data[tail]! & 0xff;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's partition of a key: toPositive(murmur2(utf8(key))) % partitions. */
export function partitionOf(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

/** Kafka's partition of a key already in UTF-8: the `length` bytes of `bytes` from `start`. */
export function partitionOfBytes(bytes: Uint8Array, length: number, partitions: number, start = 0): number {
  return (murmur2(bytes, length, start) & 0x7fffffff) % partitions;
}
