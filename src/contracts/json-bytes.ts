/**
 * Small pieces for reading JSON text as UTF-8 bytes without decoding it: the contract's fast check
 * (flat-event-scanner.ts) and the online decoder's stored-event scanner share them.
 */

export const TRUE = Buffer.from('true');
export const FALSE = Buffer.from('false');
export const NULL = Buffer.from('null');

/** True when `bytes` holds `expected` at `at`, within `end`. */
export function startsWith(bytes: Buffer, at: number, end: number, expected: Uint8Array): boolean {
  if (at + expected.length > end) return false;
  for (let k = 0; k < expected.length; k++) if (bytes[at + k] !== expected[k]) return false;
  return true;
}

/** The position of the first non-whitespace byte (JSON's four) at or after `i`, or `end`. */
export function skipSpace(bytes: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}
