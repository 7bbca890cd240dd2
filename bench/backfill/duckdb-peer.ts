/**
 * DuckDB's best formulation of the benchmark's event-time view: one union of events and spine rows, sorted once
 * per customer, with window functions over RANGE frames (not a range join). To keep the as-of rule strict
 * (events at exactly t are excluded) the order key is 2·ts for a spine row and 2·ts + 1 for an event, so a frame
 * `RANGE BETWEEN 2w PRECEDING AND CURRENT ROW` at a spine row covers exactly the events in [t − w, t).
 * `last` breaks ties of equal time by arrival order, as semantics.md says.
 */
import { DuckDBInstance } from '@duckdb/node-api';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export async function duckdbBackfill(events: string, spine: string, out: string): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const frame = (w: number) => `(w_all RANGE BETWEEN ${2 * w} PRECEDING AND CURRENT ROW)`;
  try {
    await connection.run(`COPY (
      WITH ev AS (
        SELECT customerId, ts, amount, merchantId, ts AS event_ts, row_number() OVER () AS seq, NULL::BIGINT AS spine_row
        FROM read_parquet('${events}')
      ), sp AS (
        SELECT customerId, ts, NULL::DOUBLE AS amount, NULL::VARCHAR AS merchantId, NULL::BIGINT AS event_ts,
               NULL::BIGINT AS seq, file_row_number AS spine_row
        FROM read_parquet('${spine}', file_row_number = true)
      ), u AS (
        SELECT *, ts * 2 + (spine_row IS NULL)::BIGINT AS k FROM (SELECT * FROM ev UNION ALL SELECT * FROM sp)
      ), w AS (
        SELECT spine_row,
          count(event_ts) OVER ${frame(10 * MINUTE)} AS count_10m,
          count(event_ts) OVER ${frame(HOUR)} AS count_1h,
          count(event_ts) OVER ${frame(DAY)} AS count_1d,
          coalesce(sum(amount) OVER ${frame(DAY)}, 0) AS amount_sum_1d,
          coalesce(sum(amount) OVER ${frame(7 * DAY)}, 0) AS amount_sum_7d,
          max(amount) OVER ${frame(7 * DAY)} AS amount_max_7d,
          min(amount) OVER ${frame(7 * DAY)} AS amount_min_7d,
          avg(amount) OVER ${frame(30 * DAY)} AS amount_mean_30d,
          stddev_pop(amount) OVER ${frame(30 * DAY)} AS amount_std_30d,
          count(DISTINCT merchantId) OVER ${frame(DAY)} AS merchants_1d,
          last_value(amount IGNORE NULLS) OVER (PARTITION BY customerId ORDER BY k, seq ROWS UNBOUNDED PRECEDING) AS last_amount,
          (ts - max(event_ts) OVER (w_all ROWS UNBOUNDED PRECEDING))::DOUBLE AS since_last_ms
        FROM u
        WINDOW w_all AS (PARTITION BY customerId ORDER BY k)
      )
      SELECT s.* EXCLUDE (file_row_number), w.* EXCLUDE (spine_row)
      FROM w JOIN read_parquet('${spine}', file_row_number = true) s ON s.file_row_number = w.spine_row
      ORDER BY w.spine_row
    ) TO '${out}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
  }
}
