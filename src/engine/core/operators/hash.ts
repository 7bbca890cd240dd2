/** 32-bit hashing of values for sketches: FNV-1a over UTF-16 code units, then murmur3's finaliser to mix. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** FNV-1a over bytes [start, end), mixed the same way (its top bits are as well spread as its low ones). */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return fmix32(h);
}

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a field value as the engine sees it (numbers in decimal, so `1` and `1.0` agree). */
export function hashValue(value: unknown): number {
  return hashString(typeof value === 'string' ? `s${value}` : `v${JSON.stringify(value)}`);
}
