/** `tributary ingest <stream or table> <file…>`: loads NDJSON, CSV or Parquet through the intake, with progress. */
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { ingestFile } from '../../ingest/file-ingest.js';
import { formatOf, sizeOf } from '../../ingest/files.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { openProject, requireSource } from '../runtime.js';

export async function runIngest(
  options: { project: string; json: boolean; stream: string; files: string[] },
  out: Output,
): Promise<void> {
  for (const file of options.files) {
    if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
    formatOf(file); // refuses an unknown extension before anything is written
  }
  const project = await openProject(options.project);
  try {
    requireSource(project.plan, options.stream);
    const fields =
      project.plan.streams[options.stream]?.fields ?? project.plan.tables[options.stream]!.fields;
    const totals = { events: 0, accepted: 0, duplicates: 0, rejected: 0 };
    const reasons = new Map<string, number>();
    const begin = performance.now();
    const bar =
      process.stderr.isTTY && !options.json
        ? new cliProgress.SingleBar(
            {
              format:
                '{file} [{bar}] {percentage}% | {events} events | {rate} events/s | ETA {eta_formatted}',
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
    for (const file of options.files) {
      const size = await sizeOf(file);
      bar?.start(size, 0, { file, events: 0, rate: 0 });
      await ingestFile(project.intake, options.stream, file, fields, {
        source: file,
        onBatch: ({ batch, result }) => {
          totals.events += batch.items.length;
          totals.accepted += result.accepted;
          totals.duplicates += result.duplicates;
          totals.rejected += result.rejected.length;
          for (const r of result.rejected) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
          const seconds = (performance.now() - begin) / 1000;
          bar?.update(batch.progress, {
            events: totals.events.toLocaleString('en-US'),
            rate: Math.round(totals.events / seconds).toLocaleString('en-US'),
          });
        },
      });
      bar?.update(size);
      bar?.stop();
    }
    const seconds = (performance.now() - begin) / 1000;
    const summary = {
      stream: options.stream,
      files: options.files.length,
      ...totals,
      seconds: Number(seconds.toFixed(2)),
      rejectedByReason: Object.fromEntries(reasons),
    };
    if (options.json) out.json(summary);
    else {
      out.line(
        `${options.stream}: ${totals.events.toLocaleString('en-US')} events from ${options.files.length} file(s) in ${seconds.toFixed(1)} s: ${totals.accepted.toLocaleString('en-US')} accepted, ${totals.duplicates.toLocaleString('en-US')} duplicates, ${totals.rejected.toLocaleString('en-US')} rejected`,
      );
      if (totals.rejected) {
        out.line(`  rejected by reason: ${[...reasons].map(([r, n]) => `${r} ${n}`).join(', ')}`);
        out.line(
          `  see them with \`tributary dead-letters ${options.stream}\`; replay them after a fix with \`--replay\``,
        );
      }
    }
  } finally {
    await project.close();
  }
}
