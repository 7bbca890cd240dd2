/**
 * `tributary backfill --view <v> --spine <file> --out <file>`: a point-in-time training set. History comes from
 * the project's log, or from event files given with `--events <stream>=<file or glob>` (repeatable, in arrival
 * order). Progress on a terminal; a one-line summary at the end; `--json` for machines.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { type BackfillSummary, backfill, type History } from '../../engine/offline/backfill.js';
import { EmbeddedLog } from '../../log/embedded/embedded-log.js';
import { LogError } from '../../log/log.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { loadPlan, stateDir } from '../runtime.js';

export interface BackfillCliOptions {
  readonly project: string;
  readonly json: boolean;
  readonly view: string;
  readonly spine: string;
  readonly out: string;
  readonly asServed: boolean;
  readonly key: readonly string[];
  readonly time?: string;
  readonly events: readonly string[];
  readonly skipInvalid: boolean;
  readonly workers?: number;
  readonly memory?: string;
}

/** Files matching a path whose last part may hold `*` and `?`, sorted by name (their arrival order). */
export function expandGlob(pattern: string): string[] {
  const name = basename(pattern);
  if (!/[*?]/.test(name)) {
    if (!existsSync(pattern)) throw new CliError(`no such file: ${pattern}`);
    return [pattern];
  }
  const dir = dirname(pattern);
  if (/[*?]/.test(dir)) throw new CliError(`${pattern}: wildcards are allowed in the file name only`);
  const regex = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  );
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => regex.test(f) && statSync(join(dir, f)).isFile())
        .sort()
        .map((f) => join(dir, f))
    : [];
  if (!files.length) throw new CliError(`no file matches ${pattern}`);
  return files;
}

/** `name=value` pairs of a repeatable option. */
function pairs(values: readonly string[], option: string): [string, string][] {
  return values.map((value) => {
    const at = value.indexOf('=');
    if (at <= 0 || at === value.length - 1)
      throw new CliError(
        `${option} ${value}: expected ${option === '--key' ? '<entity>=<column>' : '<stream>=<file or glob>'}`,
      );
    return [value.slice(0, at), value.slice(at + 1)];
  });
}

function summaryLine(s: BackfillSummary): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const parts = [
    `${n(s.rows)} rows`,
    `${n(s.eventsRead)} events read`,
    `${n(s.rejected)} rejected`,
    ...(s.duplicates ? [`${n(s.duplicates)} duplicates`] : []),
    ...(s.skippedRows ? [`${n(s.skippedRows)} spine rows skipped`] : []),
    `${s.seconds.toFixed(1)} s`,
  ];
  return `${s.out}: ${parts.join(', ')} (view ${s.view}, ${s.asServed ? 'as served' : 'event time'}, plan ${s.planHash})${s.rejectsFile ? `\n  rejects with their reasons: ${s.rejectsFile}` : ''}`;
}

export async function runBackfill(options: BackfillCliOptions, out: Output): Promise<void> {
  if (!existsSync(options.spine)) throw new CliError(`no such spine file: ${options.spine}`);
  const outDir = dirname(resolve(options.out));
  if (!existsSync(outDir)) throw new CliError(`the output's folder does not exist: ${outDir}`);
  const plan = await loadPlan(options.project);
  const keyColumns = Object.fromEntries(pairs(options.key, '--key'));
  const files: Record<string, string[]> = {};
  for (const [stream, pattern] of pairs(options.events, '--events'))
    (files[stream] ??= []).push(...expandGlob(pattern));

  let log: EmbeddedLog | null = null;
  let history: History;
  if (options.events.length) history = { kind: 'files', files };
  else {
    try {
      log = await EmbeddedLog.open(join(stateDir(options.project), 'log'));
    } catch (error) {
      if (error instanceof LogError)
        throw new CliError(
          `${error.message}. Stop the server that owns this project, or give the history with --events.`,
        );
      throw error;
    }
    history = { kind: 'log', log };
  }

  const bar =
    process.stderr.isTTY && !options.json
      ? new cliProgress.SingleBar(
          {
            format: '{phase} [{bar}] {percentage}% | {events} events | {rate} events/s | ETA {eta_formatted}',
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  const begin = performance.now();
  let started = false;
  let phase = '';
  try {
    const summary = await backfill({
      plan,
      view: options.view,
      spine: options.spine,
      out: options.out,
      history,
      asServed: options.asServed,
      keyColumns,
      ...(options.time ? { timeColumn: options.time } : {}),
      skipInvalid: options.skipInvalid,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.memory ? { memoryLimit: options.memory } : {}),
      onProgress: (p) => {
        if (!bar) {
          if (p.phase !== phase && !options.json) out.step(`backfill: ${p.phase}…`);
          phase = p.phase;
          return;
        }
        const rate = Math.round(p.events / ((performance.now() - begin) / 1000));
        const payload = {
          phase: p.phase.padEnd(8),
          events: p.events.toLocaleString('en-US'),
          rate: rate.toLocaleString('en-US'),
        };
        if (!started) {
          bar.start(p.total ?? p.events + 1, p.events, payload);
          started = true;
        }
        if (p.total !== null) bar.setTotal(p.total);
        else bar.setTotal(p.events + 1);
        bar.update(p.events, payload);
      },
    });
    bar?.stop();
    if (options.json) out.json(summary);
    else out.line(summaryLine(summary));
  } catch (error) {
    bar?.stop();
    throw error;
  } finally {
    await log?.close();
  }
}
