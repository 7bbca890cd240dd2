/**
 * `tributary demo`: the card-fraud example end to end on the embedded default (src/demo/scenario.ts), then a
 * short readable report of what happened, with figures. The project it builds stays in `--out` to explore.
 */
import { compileYaml } from '../../definitions/yaml.js';
import { DEMO_DEFINITIONS } from '../../demo/payments.js';
import { runDemoScenario } from '../../demo/scenario.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';

export interface DemoOptions {
  customers: number;
  days: number;
  out: string;
  json: boolean;
}

const n = (x: number) => x.toLocaleString('en-US');

export async function runDemo(options: DemoOptions, out: Output): Promise<void> {
  const compiled = compileYaml(DEMO_DEFINITIONS, 'demo/tributary.yaml');
  if (!compiled.ok) throw new CliError('the demo definitions do not compile (a bug): please report it', 70);
  const report = await runDemoScenario(compiled.plan, {
    customers: options.customers,
    days: options.days,
    dir: options.out,
    step: (text) => out.step(text),
  });
  if (options.json) {
    out.json(report);
    return;
  }
  const rejected = Object.entries(report.rejected);
  out.line('');
  out.line('Tributary demo: card-fraud features, one definition, computed online and as of the past');
  out.line('─'.repeat(78));
  out.line(
    `project       ${report.dir}/tributary.yaml (plan ${report.plan}): 2 entities, 1 stream, 1 table, 13 features + 2 derived`,
  );
  out.line(
    `ingested      ${n(report.payments)} payments through their contract into the durable log at ${n(report.ingestEventsPerSecond)} events/s: ${n(report.accepted)} accepted, ${n(report.duplicates)} retried sends de-duplicated, ${n(report.late)} late (applied where they belong)`,
  );
  out.line(
    `dead letters  ${rejected.map(([reason, count]) => `${count} ${reason}`).join(', ')}: kept with their reasons, never in a feature (\`tributary dead-letters payments --project ${report.dir}\`)`,
  );
  out.line(
    `online state  built from the log at ${n(report.applyEventsPerSecond)} events/s; checkpoint of ${n(Math.round(report.checkpointBytes / 1024))} KiB with its log positions`,
  );
  out.line(
    `served        ${n(report.live)} live payments scored over HTTP with consistent=true, each before it was acknowledged: p50 ${report.readP50Ms} ms, p99 ${report.readP99Ms} ms per request`,
  );
  out.line(
    `training set  ${n(report.trainingRows)} past payments (${n(report.fraudRows)} fraud), features as of each payment, in ${report.backfillSeconds} s → ${report.trainingFile}`,
  );
  out.line(
    `online=offline ${n(report.reproduced)} of ${n(report.live)} served vectors reproduced exactly by the offline engine's as-served backfill`,
  );
  out.line('');
  out.line('Do the features tell fraud apart? (mean over the training set)');
  out.line(`  ${'feature'.padEnd(16)}${'fraud'.padStart(12)}${'legitimate'.padStart(14)}`);
  for (const s of report.separation)
    out.line(
      `  ${s.feature.padEnd(16)}${s.fraud.toFixed(2).padStart(12)}${s.legitimate.toFixed(2).padStart(14)}`,
    );
  if (report.example) {
    const { payment, vector } = report.example;
    out.line('');
    out.line(
      `A vector served live, for payment ${payment.paymentId} of ${payment.customerId} at ${payment.merchantId} (${payment.fraud ? 'fraud' : 'legitimate'}, ${(payment.amount / 100).toFixed(2)} EUR):`,
    );
    for (const [name, value] of Object.entries(vector)) {
      const shown =
        typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(3) : JSON.stringify(value);
      out.line(`  ${name.padEnd(24)}${shown}`);
    }
  }
  out.line('');
  out.line(
    `Explore it: npx tributary backfill --project ${report.dir} --view fraud --spine ${report.dir}/past-payments.ndjson --out my-training.csv`,
  );
}
