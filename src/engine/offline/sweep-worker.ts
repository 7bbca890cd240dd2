/**
 * A sweep worker thread: builds the core for the plan once, then computes batches of entities sent by the main
 * thread and answers with their values (numbers in one Float64Array, anything else in an array).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Plan } from '../../definitions/plan.js';
import { Core } from '../core/core.js';
import { computeEntity, type Dictionaries, type EntityTask } from './entity-sweep.js';
import type { StreamStage } from './stage-plan.js';

export interface SweepWorkerSetup {
  readonly plan: Plan;
  readonly group: string;
  readonly stage: StreamStage;
  readonly asServed: boolean;
  /** Per aggregation: 'num' (a number column), 'other', or null (not used by the view). */
  readonly outputs: readonly ('num' | 'other' | null)[];
  readonly tableRows: readonly TableRow[];
  readonly dictionaries: Dictionaries;
}

export interface TableRow {
  readonly table: string;
  readonly validFrom: number;
  readonly seq: number;
  readonly row: Readonly<Record<string, unknown>>;
}

export interface SweepBatchResult {
  readonly id: number;
  readonly rows: Int32Array;
  /** rows × numeric outputs, row-major. */
  readonly numbers: Float64Array;
  /** rows × other outputs, row-major. */
  readonly others: unknown[];
}

const setup = workerData as SweepWorkerSetup;
const core = new Core(setup.plan);
for (const r of setup.tableRows) core.addTableRow(r.table, r.validFrom, r.seq, r.row);
const group = core.groups.get(setup.group)!;
const numericAt = setup.outputs.flatMap((o, a) => (o === 'num' ? [a] : []));
const otherAt = setup.outputs.flatMap((o, a) => (o === 'other' ? [a] : []));
const values: unknown[] = new Array(group.names.length);

parentPort!.on('message', (batch: { id: number; rows: number; tasks: EntityTask[] }) => {
  const rows = new Int32Array(batch.rows);
  const numbers = new Float64Array(batch.rows * numericAt.length);
  const others: unknown[] = new Array(batch.rows * otherAt.length);
  let at = 0;
  for (const task of batch.tasks) {
    computeEntity(group, setup.stage, setup.dictionaries, setup.asServed, task, values, (row, v) => {
      rows[at] = row;
      for (let i = 0; i < numericAt.length; i++) {
        const value = v[numericAt[i]!];
        numbers[at * numericAt.length + i] = typeof value === 'number' ? value : Number.NaN;
      }
      for (let i = 0; i < otherAt.length; i++) others[at * otherAt.length + i] = v[otherAt[i]!];
      at++;
    });
  }
  const result: SweepBatchResult = { id: batch.id, rows, numbers, others };
  parentPort!.postMessage(result, [rows.buffer, numbers.buffer]);
});
