/**
 * The online processor's decoder thread. Parsing stored events (JSON) is the largest cost of applying the log;
 * during a rebuild or a long catch-up this thread parses batches while the main thread applies the previous
 * batch to the core. It answers with the columns the stream's feature groups read: event times, numeric fields
 * as Float64Array (NaN for null or a non-number), and keys and categorical fields as arrays of values.
 */
import { parentPort, workerData } from 'node:worker_threads';

/** Per stream, the fields its feature groups read. */
export interface DecoderSetup {
  readonly streams: Readonly<
    Record<string, { readonly numeric: readonly string[]; readonly values: readonly string[] }>
  >;
}

/** A batch of stored events: record i's bytes are bytes[ends[i - 1] (or 0), ends[i]). */
export interface DecodeRequest {
  readonly id: number;
  readonly stream: string;
  readonly bytes: Uint8Array;
  readonly ends: Int32Array;
}

export interface DecodedColumns {
  readonly id: number;
  readonly times: Float64Array;
  readonly numeric: Readonly<Record<string, Float64Array>>;
  readonly values: Readonly<Record<string, readonly unknown[]>>;
}

const setup = workerData as DecoderSetup;

parentPort!.on('message', ({ id, stream, bytes, ends }: DecodeRequest) => {
  const fields = setup.streams[stream]!;
  const count = ends.length;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const times = new Float64Array(count);
  const numeric = Object.fromEntries(fields.numeric.map((f) => [f, new Float64Array(count)]));
  const values = Object.fromEntries(fields.values.map((f) => [f, new Array<unknown>(count)]));
  const numericColumns = fields.numeric.map((f) => [f, numeric[f]!] as const);
  const valueColumns = fields.values.map((f) => [f, values[f]!] as const);
  let start = 0;
  for (let i = 0; i < count; i++) {
    const stored = JSON.parse(text.toString('utf8', start, ends[i]!)) as {
      t: number;
      f: Record<string, unknown>;
    };
    start = ends[i]!;
    times[i] = stored.t;
    for (const [name, column] of numericColumns) {
      const value = stored.f[name];
      column[i] = typeof value === 'number' ? value : Number.NaN;
    }
    for (const [name, column] of valueColumns) column[i] = stored.f[name] ?? null;
  }
  const answer: DecodedColumns = { id, times, numeric, values };
  parentPort!.postMessage(answer, [times.buffer, ...Object.values(numeric).map((c) => c.buffer)]);
});
