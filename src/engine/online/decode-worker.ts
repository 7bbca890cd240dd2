/**
 * The online processor's decoder thread. Checking log records (CRC) and parsing stored events (JSON) are the
 * largest costs of applying the log; during a rebuild or a long catch-up this thread does both for batch k + 1
 * while the main thread applies batch k to the core. It takes whole records as the log stores them and answers
 * with the columns the stream's feature groups read: event times and arrival sequences, numeric fields as
 * Float64Array (NaN for null or a non-number), and keys and categorical fields as arrays of values.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { forEachRecord } from '../../log/embedded/record-format.js';
import { fillFromJson, StoredEventScanner } from './stored-event-scanner.js';

/** Per stream, the fields its feature groups read. */
export interface DecoderSetup {
  readonly streams: Readonly<
    Record<string, { readonly numeric: readonly string[]; readonly values: readonly string[] }>
  >;
}

/**
 * Whole records of one partition (record-format.ts), the first at `firstOffset`: the ones from `from` on are
 * decoded, `count` of them.
 */
export interface DecodeRequest {
  readonly id: number;
  readonly stream: string;
  readonly bytes: Uint8Array;
  readonly from: number;
  readonly count: number;
}

export interface DecodedColumns {
  readonly id: number;
  readonly times: Float64Array;
  readonly seqs: Float64Array;
  readonly numeric: Readonly<Record<string, Float64Array>>;
  readonly values: Readonly<Record<string, readonly unknown[]>>;
}

/** A batch that could not be decoded (a record that fails its checksum): the reason. */
export interface DecodeFailure {
  readonly id: number;
  readonly error: string;
}

const setup = workerData as DecoderSetup;
const scanners = new Map<string, StoredEventScanner>();

parentPort!.on('message', ({ id, stream, bytes, from, count }: DecodeRequest) => {
  const fields = setup.streams[stream]!;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const times = new Float64Array(count);
  const seqs = new Float64Array(count);
  const numeric = Object.fromEntries(fields.numeric.map((f) => [f, new Float64Array(count)]));
  const values = Object.fromEntries(fields.values.map((f) => [f, new Array<unknown>(count)]));
  const numericColumns = fields.numeric.map((f) => numeric[f]!);
  const valueColumns = fields.values.map((f) => values[f]!);
  let scanner = scanners.get(stream);
  if (!scanner) scanners.set(stream, (scanner = new StoredEventScanner(fields.numeric, fields.values)));
  let i = 0;
  const stoppedAt = forEachRecord(data, (offset, sequence, valueStart, valueEnd) => {
    if (offset < from || i >= count) return;
    seqs[i] = sequence;
    if (!scanner.scan(data, valueStart, valueEnd, i, times, numericColumns, valueColumns))
      fillFromJson(
        data.toString('utf8', valueStart, valueEnd),
        i,
        fields,
        times,
        numericColumns,
        valueColumns,
      );
    i++;
  });
  if (stoppedAt !== data.length || i !== count) {
    const failure: DecodeFailure = {
      id,
      error: `a record at byte ${stoppedAt} of the batch fails its checksum or is cut (${i} of ${count} decoded)`,
    };
    parentPort!.postMessage(failure);
    return;
  }
  const answer: DecodedColumns = { id, times, seqs, numeric, values };
  parentPort!.postMessage(answer, [
    times.buffer,
    seqs.buffer,
    ...Object.values(numeric).map((c) => c.buffer),
  ]);
});
