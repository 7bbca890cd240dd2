import { describe, expect, it } from 'vitest';
import { agg, defineProject } from '../../src/definitions/builder.js';
import { DefinitionError } from '../../src/definitions/errors.js';
import { Core } from '../../src/engine/core/core.js';

const payments = {
  keys: { customer: 'customerId' },
  time: 'ts',
  schema: {
    type: 'object',
    required: ['customerId', 'ts', 'amount'],
    properties: {
      customerId: { type: 'string' },
      ts: { type: 'integer' },
      amount: { type: 'number' },
      channel: { type: 'string' },
    },
  },
};

describe('the TypeScript builder', () => {
  it('builds the same plan as the equivalent YAML model, with plain functions allowed', () => {
    const plan = defineProject({
      entities: { customer: {} },
      streams: { payments },
      features: {
        spend: {
          stream: 'payments',
          entity: 'customer',
          where: (e: { amount: number }) => e.amount > 0,
          aggregations: { total_7d: agg.sum('amount', '7d'), n: agg.count(), last3: agg.lastK('amount', 3) },
        },
      },
      views: {
        v: {
          entity: 'customer',
          features: ['spend.*'],
          derived: { double_total: (f: { total_7d: number }) => f.total_7d * 2 },
        },
      },
    });
    expect(plan.entities.customer!.key).toBe('customerId');
    const core = new Core(plan);
    for (const [seq, amount] of [10, -5, 20].entries())
      core.addEvent('payments', {
        time: 1000 + seq,
        seq,
        fields: { customerId: 'c', ts: 1000 + seq, amount },
      });
    expect(core.read('v', { customer: 'c' }, 2000)).toEqual({
      total_7d: 30,
      n: 2,
      last3: [20, 10],
      double_total: 60,
    });
  });

  it('throws a DefinitionError that lists every problem with its path', () => {
    let error: unknown;
    try {
      defineProject({
        entities: { customer: {} },
        streams: { payments },
        features: {
          spend: { stream: 'payments', entity: 'customr', aggregations: { s: agg.sum('channel', '7d') } },
        },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DefinitionError);
    const problems = (error as DefinitionError).problems;
    expect(problems.map((p) => p.path.join('.'))).toEqual([
      'features.spend.entity',
      'features.spend.aggregations.s.field',
    ]);
    expect((error as Error).message).toContain(
      'tributary.config.ts (features.spend.entity): unknown entity `customr`',
    );
  });
});
