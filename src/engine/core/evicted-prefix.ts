/**
 * What a timeline keeps of the events it has evicted (online retention): all of them have a time before
 * `before`, so no windowed read reaches them (reads are refused before the view's horizon), and the
 * aggregations over all history read them through running aggregates: their count, first and last times, a
 * numeric summary per all-history slot, and the first and last few rows of each first/last set.
 */
import type { TimelineLayout } from './layout.js';
import * as summary from './operators/numeric-summary.js';

/** One evicted event's values, kept for first/last reads. */
export interface PrefixRow {
  readonly time: number;
  readonly seq: number;
  readonly numbers: Float64Array;
  readonly ids: Int32Array;
}

/** The prefix as plain data, for checkpoints. */
export interface PrefixSnapshot {
  readonly before: number;
  readonly count: number;
  readonly firstTime: number;
  readonly lastTime: number;
  readonly summaries: Float64Array;
  readonly firstRows: readonly (readonly PrefixRow[])[];
  readonly lastRows: readonly (readonly PrefixRow[])[];
}

const earlier = (a: PrefixRow, time: number, seq: number) =>
  a.time < time || (a.time === time && a.seq < seq);

export class EvictedPrefix {
  /** Every evicted event has a time before this. */
  before = Number.NEGATIVE_INFINITY;
  count = 0;
  firstTime = Number.POSITIVE_INFINITY;
  lastTime = Number.NEGATIVE_INFINITY;
  /** summary.WIDTH doubles per summary slot of the layout (only the all-history slots are used). */
  readonly summaries: Float64Array;
  /** Per first/last set: its earliest (ascending) and latest (ascending) present rows. */
  readonly firstRows: PrefixRow[][];
  readonly lastRows: PrefixRow[][];

  constructor(
    private readonly layout: TimelineLayout,
    snapshot?: PrefixSnapshot,
  ) {
    const slots = Math.max(1, layout.summarySlots.length);
    this.summaries = new Float64Array(slots * summary.WIDTH);
    for (let s = 0; s < slots; s++) summary.init(this.summaries, s * summary.WIDTH);
    this.firstRows = layout.presence.map(() => []);
    this.lastRows = layout.presence.map(() => []);
    if (snapshot) {
      this.before = snapshot.before;
      this.count = snapshot.count;
      this.firstTime = snapshot.firstTime;
      this.lastTime = snapshot.lastTime;
      this.summaries.set(snapshot.summaries);
      for (const [p, rows] of snapshot.firstRows.entries()) this.firstRows[p]!.push(...rows);
      for (const [p, rows] of snapshot.lastRows.entries()) this.lastRows[p]!.push(...rows);
    }
  }

  /**
   * The prefix as plain data, which does not change afterwards (checkpoints copy state while applies go on): the
   * summaries and the lists of rows are copied; a row is never changed once made.
   */
  snapshot(): PrefixSnapshot {
    const { before, count, firstTime, lastTime } = this;
    return {
      before,
      count,
      firstTime,
      lastTime,
      summaries: this.summaries.slice(),
      firstRows: this.firstRows.map((rows) => [...rows]),
      lastRows: this.lastRows.map((rows) => [...rows]),
    };
  }

  /**
   * Folds one event in. `numberAt(c)` and `idAt(c)` give its numeric and categorical column values; `present[p]`
   * says whether it has every field of first/last set p.
   */
  add(
    time: number,
    seq: number,
    numberAt: (column: number) => number,
    idAt: (column: number) => number,
    present: (set: number) => boolean,
  ): void {
    const layout = this.layout;
    this.count++;
    if (time < this.firstTime) this.firstTime = time;
    if (time > this.lastTime) this.lastTime = time;
    const slots = layout.summarySlots;
    for (let s = 0; s < slots.length; s++) {
      const { column, window } = slots[s]!;
      if (layout.windows[window]!.windowMs === null)
        summary.add(this.summaries, s * summary.WIDTH, numberAt(column));
    }
    const { firstK, lastK } = layout.retention;
    for (let p = 0; p < layout.presence.length; p++) {
      if ((firstK[p] === 0 && lastK[p] === 0) || !present(p)) continue;
      const row: PrefixRow = {
        time,
        seq,
        numbers: Float64Array.from(layout.numericFields, (_, c) => numberAt(c)),
        ids: Int32Array.from(layout.categoricalFields, (_, c) => idAt(c)),
      };
      keep(this.firstRows[p]!, row, firstK[p]!, 'first');
      keep(this.lastRows[p]!, row, lastK[p]!, 'last');
    }
  }
}

/** Inserts `row` in (time, seq) order into rows, keeping the k earliest ('first') or the k latest ('last'). */
function keep(rows: PrefixRow[], row: PrefixRow, k: number, which: 'first' | 'last'): void {
  if (k === 0) return;
  let at = rows.length;
  while (at > 0 && !earlier(rows[at - 1]!, row.time, row.seq)) at--;
  rows.splice(at, 0, row);
  if (rows.length > k) {
    if (which === 'first') rows.pop();
    else rows.shift();
  }
}
