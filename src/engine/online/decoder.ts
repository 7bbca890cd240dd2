/**
 * The main thread's side of the decoder thread (decode-worker.ts): packs a batch of log records' values into one
 * transferred buffer and resolves with their decoded columns. Batches are answered in the order sent.
 */
import type { Worker } from 'node:worker_threads';
import type { LogRecord } from '../../log/log.js';
import { startWorker } from '../worker-thread.js';
import type { DecodedColumns, DecodeRequest, DecoderSetup } from './decode-worker.js';

export class StoredEventDecoder {
  private readonly worker: Worker;
  private readonly pending = new Map<
    number,
    { resolve: (c: DecodedColumns) => void; reject: (e: unknown) => void }
  >();
  private nextId = 0;
  private failure: unknown = null;

  constructor(setup: DecoderSetup) {
    this.worker = startWorker(import.meta.url, 'decode-worker', setup);
    this.worker.on('message', (answer: DecodedColumns) => {
      const waiting = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (this.pending.size === 0) this.worker.unref();
      waiting?.resolve(answer);
    });
    const fail = (error: unknown) => {
      this.failure = error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (this.pending.size) fail(new Error(`the decoder thread exited (${code})`));
    });
    // The thread keeps the process alive only while a batch is pending.
    this.worker.unref();
  }

  /** Decodes the stored events of `records` (all of `stream`). */
  decode(stream: string, records: readonly LogRecord[]): Promise<DecodedColumns> {
    if (this.failure) return Promise.reject(this.failure);
    let total = 0;
    for (const record of records) total += record.value.length;
    const bytes = new Uint8Array(total);
    const ends = new Int32Array(records.length);
    let at = 0;
    for (let i = 0; i < records.length; i++) {
      const value = records[i]!.value;
      bytes.set(value, at);
      at += value.length;
      ends[i] = at;
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const request: DecodeRequest = { id, stream, bytes, ends };
      this.worker.postMessage(request, [bytes.buffer, ends.buffer]);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
