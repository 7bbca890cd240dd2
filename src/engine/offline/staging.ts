/**
 * The offline engine's scratch database: DuckDB, on disk in a temporary folder, so that a history larger than
 * memory is sorted and partitioned out of core (DuckDB spills) and never held whole in the JavaScript heap.
 * History, spine keys and computed features pass through it as typed columns. DuckDB reads and writes the
 * files; it never computes a feature (the core does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';

/** DuckDB's rows per data chunk. */
export const CHUNK_ROWS = 2048;

export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
export const quoteText = (text: string) => `'${text.replaceAll("'", "''")}'`;

export class Staging {
  private constructor(
    readonly connection: DuckDBConnection,
    private readonly dir: string,
  ) {}

  /** Opens a scratch database; `memoryLimit` (e.g. '1GB') bounds DuckDB's own memory before it spills. */
  static async open(options: { memoryLimit?: string; threads?: number } = {}): Promise<Staging> {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-backfill-'));
    // In memory, spilling to the temporary folder beyond the memory limit: much faster than a database file.
    const instance = await DuckDBInstance.create(':memory:', {
      temp_directory: join(dir, 'spill'),
      ...(options.memoryLimit ? { memory_limit: options.memoryLimit } : {}),
      ...(options.threads ? { threads: String(options.threads) } : {}),
    });
    return new Staging(await instance.connect(), dir);
  }

  run(sql: string): Promise<unknown> {
    return this.connection.run(sql);
  }

  async scalar(sql: string): Promise<unknown> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRows()[0]?.[0];
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjects() as Record<string, unknown>[];
  }

  /** Streams a query's result as column chunks (each column as an array of values). */
  async *chunks(sql: string): AsyncGenerator<{ rowCount: number; columns: DuckDBValue[][] }> {
    const result = await this.connection.stream(sql);
    for (
      let chunk = await result.fetchChunk();
      chunk && chunk.rowCount > 0;
      chunk = await result.fetchChunk()
    )
      yield { rowCount: chunk.rowCount, columns: chunk.getColumns() };
  }

  /**
   * Streams a query's result as raw DuckDB chunks; read DOUBLE columns without nulls with `doubles` (no copy, no
   * boxing), others with `chunk.getColumnValues(c)`.
   */
  async *rawChunks(sql: string): AsyncGenerator<DuckDBDataChunk> {
    const result = await this.connection.stream(sql);
    for (
      let chunk = await result.fetchChunk();
      chunk && chunk.rowCount > 0;
      chunk = await result.fetchChunk()
    )
      yield chunk;
  }

  /** An appender that takes rows as columns and writes them in DuckDB chunks. */
  async columnAppender(table: string, types: readonly DuckDBType[]): Promise<ColumnAppender> {
    return new ColumnAppender(await this.connection.createAppender(table), types);
  }

  close(): void {
    this.connection.closeSync();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Buffers rows column-wise and appends them to a table in full DuckDB chunks. */
export class ColumnAppender {
  private readonly buffers: DuckDBValue[][];
  private length = 0;

  constructor(
    private readonly appender: Awaited<ReturnType<DuckDBConnection['createAppender']>>,
    private readonly types: readonly DuckDBType[],
  ) {
    this.buffers = types.map(() => new Array<DuckDBValue>(CHUNK_ROWS));
  }

  /** Adds one row (one value per column). */
  push(values: readonly DuckDBValue[]): void {
    const at = this.length;
    for (let c = 0; c < values.length; c++) this.buffers[c]![at] = values[c]!;
    if (++this.length === CHUNK_ROWS) this.flushChunk();
  }

  private flushChunk(): void {
    if (this.length === 0) return;
    const chunk = DuckDBDataChunk.create(this.types, this.length);
    for (let c = 0; c < this.types.length; c++)
      chunk.setColumnValues(
        c,
        this.length === CHUNK_ROWS ? this.buffers[c]! : this.buffers[c]!.slice(0, this.length),
      );
    this.appender.appendDataChunk(chunk);
    this.length = 0;
  }

  close(): void {
    this.flushChunk();
    this.appender.flushSync();
    this.appender.closeSync();
  }
}

/**
 * A DOUBLE column of a chunk as the Float64Array DuckDB filled (valid until the next chunk). The column must hold
 * no nulls (write `coalesce(x, 'NaN'::DOUBLE)`): validity is not consulted.
 */
export function doubles(chunk: DuckDBDataChunk, column: number): Float64Array {
  const vector = chunk.getColumnVector(column) as unknown as { items?: unknown };
  if (vector.items instanceof Float64Array) return vector.items;
  return Float64Array.from(chunk.getColumnValues(column) as (number | null)[], (v) => v ?? Number.NaN);
}
