/**
 * The main thread's side of the decoder thread (decode-worker.ts): hands it a batch of whole log records (their
 * bytes transferred, not copied) and resolves with their decoded columns. Batches are answered in the order sent.
 */
import type { Worker } from 'node:worker_threads';
import { LogError, type RecordBytes } from '../../log/log.js';
import { startWorker } from '../worker-thread.js';
import type { DecodedColumns, DecodeFailure, DecodeRequest, DecoderSetup } from './decode-worker.js';

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
    this.worker.on('message', (answer: DecodedColumns | DecodeFailure) => {
      const waiting = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (this.pending.size === 0) this.worker.unref();
      if ('error' in answer) waiting?.reject(new LogError('TRIBUTARY_LOG_CORRUPT', answer.error));
      else waiting?.resolve(answer);
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

  /**
   * Checks and decodes the records of `chunk` (of `stream`) from offset `from` on. The chunk's bytes move to the
   * decoder thread: the caller must not use them again.
   */
  decode(stream: string, chunk: RecordBytes, from: number): Promise<DecodedColumns> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const { bytes } = chunk;
    const count = chunk.endOffset - Math.max(from, chunk.firstOffset);
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const request: DecodeRequest = { id, stream, bytes, from, count };
      // Transfer only a buffer the chunk owns whole; a view into a shared one is copied.
      const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      this.worker.postMessage(request, owned ? [bytes.buffer as ArrayBuffer] : []);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}
