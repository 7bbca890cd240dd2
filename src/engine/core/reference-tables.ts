/**
 * Reference tables read as of a time: a lookup at t takes the row with the greatest valid-from ≤ t; of rows with
 * the same valid-from, the later arrival wins (semantics.md, the as-of rule).
 */
interface Version {
  readonly validFrom: number;
  readonly seq: number;
  readonly row: Readonly<Record<string, unknown>>;
}

export interface TableRowSnapshot {
  readonly table: string;
  readonly key: string;
  readonly validFrom: number;
  readonly seq: number;
  readonly row: Readonly<Record<string, unknown>>;
}

export class ReferenceTables {
  private readonly tables = new Map<string, Map<string, Version[]>>();

  /** Adds one row version; rows may arrive in any order. */
  put(
    table: string,
    key: string,
    validFrom: number,
    seq: number,
    row: Readonly<Record<string, unknown>>,
  ): void {
    let rows = this.tables.get(table);
    if (!rows) this.tables.set(table, (rows = new Map()));
    let versions = rows.get(key);
    if (!versions) rows.set(key, (versions = []));
    let at = versions.length;
    while (
      at > 0 &&
      (versions[at - 1]!.validFrom > validFrom ||
        (versions[at - 1]!.validFrom === validFrom && versions[at - 1]!.seq > seq))
    )
      at--;
    versions.splice(at, 0, { validFrom, seq, row });
  }

  /** Every row version, for checkpoints. */
  snapshot(): TableRowSnapshot[] {
    const rows: TableRowSnapshot[] = [];
    for (const [table, keys] of this.tables)
      for (const [key, versions] of keys)
        for (const v of versions) rows.push({ table, key, validFrom: v.validFrom, seq: v.seq, row: v.row });
    return rows;
  }

  /** The row of `key` in force at t, or null. */
  asOf(table: string, key: string, t: number): Readonly<Record<string, unknown>> | null {
    const versions = this.tables.get(table)?.get(key);
    if (!versions) return null;
    let lo = 0;
    let hi = versions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (versions[mid]!.validFrom <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? versions[lo - 1]!.row : null;
  }
}
