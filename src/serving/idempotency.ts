/**
 * Idempotency-Key: a retried batch (of events without ids, say) counts once. The first response to a key is
 * stored durably in the log stream `__idempotency` and answered again for a retry within the horizon, also
 * after a restart. A retry that arrives while the first request is still being stored waits for its answer.
 */
import type { EmbeddedLog } from '../log/embedded/embedded-log.js';

const STREAM = '__idempotency';

interface Stored {
  readonly at: number;
  readonly status: number;
  readonly body: unknown;
}

export class IdempotencyStore {
  private readonly answers = new Map<string, Stored>();
  private readonly inFlight = new Map<string, Promise<Stored>>();

  private constructor(
    private readonly log: EmbeddedLog,
    private readonly horizonMs: number,
  ) {}

  static async open(log: EmbeddedLog, now: number, horizonMs = 86_400_000): Promise<IdempotencyStore> {
    const store = new IdempotencyStore(log, horizonMs);
    await log.ensureStream(STREAM, 1);
    for (let offset = 0; offset < log.endOffset(STREAM, 0); ) {
      const records = await log.read(STREAM, 0, offset, 10_000);
      if (!records.length) break;
      for (const record of records) {
        offset = record.offset + 1;
        if (now - record.arrivalTime > horizonMs) continue;
        store.answers.set(record.key, {
          at: record.arrivalTime,
          ...(JSON.parse(Buffer.from(record.value).toString('utf8')) as { status: number; body: unknown }),
        });
      }
    }
    return store;
  }

  /**
   * Runs `work` once per key: a repeated key gets the stored answer (`replayed: true`). Only 200 answers are
   * stored: a request refused for lack of space or time may be retried for real.
   */
  async run(
    key: string,
    now: number,
    work: () => Promise<{ status: number; body: unknown }>,
  ): Promise<{ status: number; body: unknown; replayed: boolean }> {
    const known = this.answers.get(key);
    if (known && now - known.at <= this.horizonMs)
      return { status: known.status, body: known.body, replayed: true };
    const pending = this.inFlight.get(key);
    if (pending) {
      const answer = await pending;
      return { status: answer.status, body: answer.body, replayed: true };
    }
    const attempt = (async (): Promise<Stored> => {
      const answer = await work();
      const stored = { at: now, ...answer };
      if (answer.status === 200) {
        await this.log.append(STREAM, [
          { key, arrivalTime: now, value: Buffer.from(JSON.stringify(answer)) },
        ]);
        this.answers.set(key, stored);
      }
      return stored;
    })();
    this.inFlight.set(key, attempt);
    try {
      const answer = await attempt;
      return { status: answer.status, body: answer.body, replayed: false };
    } finally {
      this.inFlight.delete(key);
    }
  }
}
