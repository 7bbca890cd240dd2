/** Entity keys are strings; a number key is written in decimal, so 123 and "123" name one entity (semantics.md). */
export function keyString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return null;
}
