/**
 * The CEL library choice (docs/decisions.md): the same `where` filter evaluated by @marcbachmann/cel-js (our
 * choice) and @bufbuild/cel, on the same contexts in one run. Metric: nanoseconds per evaluation.
 */
import { celEnv, parse, plan } from '@bufbuild/cel';
import { Environment } from '@marcbachmann/cel-js';
import type { Metrics } from '../run.js';

const SOURCE = 'amount > 0.0 && merchant.category != "test"';
const N = 500_000;

function time(evaluate: (i: number) => boolean): { ns: number; matches: number } {
  let matches = 0;
  for (let i = 0; i < 20_000; i++) evaluate(i); // warm-up
  const begin = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (evaluate(i)) matches++;
  return { ns: Number(process.hrtime.bigint() - begin) / N, matches };
}

export async function run(log: (line: string) => void): Promise<Metrics> {
  const contexts = Array.from({ length: 1000 }, (_, i) => ({
    amount: i - 10.5,
    merchant: { category: i % 7 ? 'shop' : 'test' },
  }));
  const marc = new Environment()
    .registerVariable('amount', 'double')
    .registerVariable('merchant', { schema: { category: 'string' } })
    .parse(SOURCE);
  const buf = plan(celEnv(), parse(SOURCE));
  const bufContexts = contexts.map((c) => ({
    amount: c.amount,
    merchant: new Map(Object.entries(c.merchant)),
  }));
  const a = time((i) => marc(contexts[i % 1000]!) === true);
  const b = time((i) => buf(bufContexts[i % 1000]!) === true);
  if (a.matches !== b.matches) throw new Error('the two libraries disagree');
  log(`${SOURCE}: both libraries agree on ${a.matches} matches`);
  return {
    marcbachmann_cel_ns_per_eval: Math.round(a.ns),
    bufbuild_cel_ns_per_eval: Math.round(b.ns),
    ratio_bufbuild_vs_marcbachmann: Number((b.ns / a.ns).toFixed(2)),
  };
}
