/**
 * Open addressing with linear probing over an Int32Array of entry numbers + 1 (0: empty), a power of two in size:
 * the tables of de-duplication ids (dedupe.ts) and of entity keys (key-index.ts).
 */

/** Puts entry `entry` (of hash `hash`) in the first empty slot of its probe run. */
export function placeEntry(slots: Int32Array, entry: number, hash: number): void {
  const mask = slots.length - 1;
  let slot = hash & mask;
  while (slots[slot] !== 0) slot = (slot + 1) & mask;
  slots[slot] = entry + 1;
}
