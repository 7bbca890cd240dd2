/** NDJSON lines as byte ranges (HTTP bodies and files alike): no string per line. */

/**
 * Calls `visit(start, end)` for each line of bytes [from, to), its `\r\n` or `\n` left out, blank lines
 * included (they count for line numbers). A last line without a newline is visited only when `final` (the end of
 * the body or file); otherwise its start is returned, to be completed by the next read. Returns where the
 * unvisited bytes start.
 */
export function forEachLine(
  bytes: Buffer,
  from: number,
  to: number,
  final: boolean,
  visit: (start: number, end: number) => void,
): number {
  for (;;) {
    let newline = bytes.indexOf(0x0a, from);
    if (newline < 0 || newline >= to) {
      if (!final || from >= to) return from;
      newline = to;
    }
    let end = newline;
    if (end > from && bytes[end - 1] === 0x0d) end--;
    visit(from, end);
    from = newline + 1;
  }
}

/** True when bytes [from, to) are only whitespace: a blank line holds no event. */
export function isBlank(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}
