import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileYaml } from '../../src/definitions/yaml.js';

const fraud = readFileSync(new URL('../fixtures/fraud.yaml', import.meta.url), 'utf8');

function problemsOf(text: string) {
  const result = compileYaml(text, 'tributary.yaml');
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

describe('definitions validation', () => {
  it('compiles the interface.md example into a frozen plan with a hash', () => {
    const result = compileYaml(fraud);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.isFrozen(result.plan.features.customer_payments!.aggregations)).toBe(true);
    expect(result.plan.views.fraud!.features.map((f) => f.name)).toContain('merchant_count_1h');
    expect(result.plan.views.fraud!.derived.map((d) => d.name)).toEqual(['distance_km', 'amount_z']);
  });

  it('hashes equal definitions equally, whatever the key order, and changes with a window', () => {
    const a = compileYaml(fraud);
    const reordered = compileYaml(
      fraud.replace(
        '  customer: { key: customerId }\n  merchant: { key: merchantId }',
        '  merchant: { key: merchantId }\n  customer: { key: customerId }',
      ),
    );
    const changed = compileYaml(
      fraud.replace(
        'count_10m:       { fn: count, window: 10m }',
        'count_10m:       { fn: count, window: 15m }',
      ),
    );
    if (!a.ok || !reordered.ok || !changed.ok) throw new Error('should compile');
    expect(reordered.plan.hash).toBe(a.plan.hash);
    expect(changed.plan.hash).not.toBe(a.plan.hash);
  });

  it('reports every problem with its file, path, line and a hint', () => {
    const broken = fraud
      .replace('stream: payments\n    entity: merchant', 'stream: paymnts\n    entity: merchant')
      .replace('{ fn: sum, field: amount, window: 7d }', '{ fn: sum, field: merchantId, window: 7d }')
      .replace('{ fn: mean, field: amount, window: 30d }', '{ fn: mean, field: amuont, window: 30d }')
      .replace('{ fn: count, window: 10m }', '{ fn: count, window: 10 minutes }')
      .replace('{ fn: lastK, field: amount, k: 5 }', '{ fn: lastk, field: amount, k: 5 }');
    const problems = problemsOf(broken);
    const find = (text: string) => problems.find((p) => p.message.includes(text));
    expect(find('unknown stream `paymnts`')).toMatchObject({
      file: 'tributary.yaml',
      path: ['features', 'merchant_payments', 'stream'],
      line: 44,
      hint: 'did you mean `payments`?',
    });
    expect(find('`sum` needs a number, but `merchantId` is a string')?.path).toEqual([
      'features',
      'customer_payments',
      'aggregations',
      'amount_sum_7d',
      'field',
    ]);
    expect(find('bad window `10 minutes`')?.hint).toContain('10m');
    expect(find('unknown aggregation `lastk`')?.hint).toBe('did you mean `lastK`?');
    expect(problems.every((p) => typeof p.line === 'number' && typeof p.column === 'number')).toBe(true);
    expect(problems).toHaveLength(5); // the unknown stream does not cascade into its fields
  });

  it('reports a type error inside a CEL filter and an unknown field in it', () => {
    const problems = problemsOf(
      fraud.replace(`where: "amount > 0.0 && merchant.category != 'test'"`, `where: "amount > 'x' && nope"`),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toEqual(['features', 'customer_payments', 'where']);
    expect(problems[0]!.message).toMatch(/no such overload|Unknown variable/);
  });

  it('finds a cycle among derived features instead of hanging', () => {
    const cyclic = fraud.replace(
      '      amount_z: "zscore(request.amount, amount_mean_30d, amount_std_30d)"',
      '      amount_z: "zscore(request.amount, amount_mean_30d, b)"\n      b: "amount_z * 2.0"',
    );
    const problems = problemsOf(cyclic);
    expect(
      problems.some(
        (p) => p.message.includes('cycle') && p.message.includes('amount_z') && p.message.includes('b'),
      ),
    ).toBe(true);
  });

  it('refuses duplicate feature names in a view and features of an entity the view lacks', () => {
    const problems = problemsOf(
      fraud
        .replace(
          '      - merchant_payments.count_1h as merchant_count_1h',
          '      - merchant_payments.count_1h as count_10m',
        )
        .replace('entities: [customer, merchant]', 'entities: [customer]'),
    );
    expect(problems.map((p) => p.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('`count_10m` is used twice'),
        expect.stringContaining('which the view does not have'),
      ]),
    );
  });

  it('explains a YAML syntax error with its line', () => {
    const problems = problemsOf('entities:\n  customer: { key: customerId\nstreams: {}\n');
    expect(problems[0]!.message).toMatch(/^YAML syntax/);
    expect(problems[0]!.line).toBeGreaterThan(0);
  });

  it('checks aggregation parameters', () => {
    const problems = problemsOf(
      fraud
        .replace('{ fn: lastK, field: amount, k: 5 }', '{ fn: lastK, field: amount, k: 0 }')
        .replace(
          '{ fn: approxQuantile, field: amount, q: 0.95, window: 30d }',
          '{ fn: approxQuantile, field: amount, q: 2, window: 30d }',
        )
        .replace('{ fn: count, window: 10m }', '{ fn: count, field: amount, window: 10m, bucket: 1x }'),
    );
    const messages = problems.map((p) => p.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining('`k` must be a whole number'),
        expect.stringContaining('`q` must be a number in (0, 1]'),
        expect.stringContaining('`count` takes no field'),
        expect.stringContaining('bad bucket'),
      ]),
    );
  });
});
