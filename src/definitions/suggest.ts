function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** A hint naming the closest known name, or listing what exists. */
export function suggest(name: string, known: Iterable<string>): string {
  const names = [...known];
  if (names.length === 0) return 'none are defined yet';
  const best = names
    .map((candidate) => ({ candidate, distance: editDistance(name.toLowerCase(), candidate.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance)[0]!;
  if (best.distance <= Math.max(2, Math.floor(name.length / 3))) return `did you mean \`${best.candidate}\`?`;
  return `known: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}`;
}
