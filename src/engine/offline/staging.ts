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
    const instance = await DuckDBInstance.create(join(dir, 'staging.duckdb'), {
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
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk())
      yield { rowCount: chunk.rowCount, columns: chunk.getColumns() };
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
