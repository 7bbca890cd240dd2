/** The `tributary` command line. Exit 0 on success; non-zero with a message that says what to do. */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { runBackfill } from './commands/backfill.js';
import { runDeadLetters } from './commands/dead-letters.js';
import { runDemo } from './commands/demo.js';
import { runGet } from './commands/get.js';
import { runIngest } from './commands/ingest.js';
import { runInit } from './commands/init.js';
import { runKeys } from './commands/keys.js';
import { runServe } from './commands/serve.js';
import { runValidate } from './commands/validate.js';
import { CliError } from './errors.js';
import { consoleOutput, type Output } from './output.js';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a whole number above 0');
  return parsed;
}

function positiveOrZero(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError('expected a whole number, 0 or more');
  return parsed;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function program(out: Output): Command {
  const cli = new Command('tributary')
    .description('Real-time features for ML decisions: one definition, computed online and offline.')
    .option('--project <dir>', 'the project folder', '.')
    .option('--json', 'machine-readable output', false)
    .showHelpAfterError()
    .exitOverride();
  const common = () => cli.opts<{ project: string; json: boolean }>();

  cli
    .command('demo')
    .description('run the card-fraud example end to end and print what happened')
    .option('--customers <n>', 'customers to simulate', positiveInteger, 2_000)
    .option('--days <n>', 'days of history', positiveInteger, 14)
    .option('--out <dir>', 'the demo project folder (replaced on each run)', '.tributary/demo')
    .action((options: { customers: number; days: number; out: string }) =>
      runDemo({ ...options, json: common().json }, out),
    );

  cli
    .command('init [dir]')
    .description('write a starter project (tributary.yaml)')
    .option('--force', 'overwrite existing definitions', false)
    .action((dir: string | undefined, options: { force: boolean }) =>
      runInit({ dir: dir ?? '.', force: options.force }, out),
    );

  cli
    .command('ingest <source> <files...>')
    .description('load events (or table rows) from NDJSON, CSV or Parquet files, with progress')
    .action((source: string, files: string[]) => runIngest({ ...common(), stream: source, files }, out));

  cli
    .command('backfill')
    .description('compute a point-in-time training set for a view over a spine of (keys, time, labels…)')
    .requiredOption('--view <view>', 'the view whose features to compute')
    .requiredOption('--spine <file>', 'the spine: Parquet, CSV or NDJSON with key columns and a time column')
    .requiredOption('--out <file>', 'the training set: .parquet (default), .csv or .ndjson')
    .option('--as-served', "only events that had arrived by each row's time (what online served)", false)
    .option('--key <entity=column>', "the spine column of an entity's key (repeatable)", collect, [])
    .option('--time <column>', "the spine's time column", 'ts')
    .option(
      '--events <stream=file>',
      'history from files instead of the log (repeatable; globs allowed)',
      collect,
      [],
    )
    .option('--skip-invalid', 'set invalid spine rows aside in the rejects file instead of failing', false)
    .option(
      '--workers <n>',
      'worker threads for the sweep (default: one per core for large histories)',
      positiveOrZero,
    )
    .option('--memory <size>', 'memory for sorting before it spills to disk, e.g. 2GB')
    .action(
      (options: {
        view: string;
        spine: string;
        out: string;
        asServed: boolean;
        key: string[];
        time: string;
        events: string[];
        skipInvalid: boolean;
        workers?: number;
        memory?: string;
      }) => runBackfill({ ...common(), ...options }, out),
    );

  cli
    .command('get <view> <key>')
    .description('one feature vector of a one-entity view (from the state, or from the server that owns it)')
    .option('--at <time>', 'as of this time: epoch ms or ISO-8601 with an offset (default now)')
    .option('--server <url>', 'the server to ask when it owns the project', 'http://127.0.0.1:7070')
    .action((view: string, key: string, options: { at?: string; server: string }) =>
      runGet({ ...common(), view, key, ...options }, out),
    );

  cli
    .command('keys <action> [name]')
    .description(
      'API keys: `add <name> --scope <scope>…` (shown once, stored hashed), `list`, `remove <name>`',
    )
    .option('--scope <scope>', 'ingest:<stream>, read:<view> (or * for all), admin (repeatable)', collect, [])
    .action((action: string, name: string | undefined, options: { scope: string[] }) =>
      runKeys({ ...common(), action, ...(name ? { name } : {}), scopes: options.scope }, out),
    );

  cli
    .command('dead-letters <stream>')
    .description(
      'list refused events with their reasons, or replay them after a fix (`_unknown`: events for unknown streams)',
    )
    .option('--reason <reason>', 'only this reason (e.g. schema_violation)')
    .option('--replay', 'check them again and store those that now pass', false)
    .option('--cursor <n>', 'continue a listing', positiveOrZero)
    .option('--limit <n>', 'how many to list', positiveInteger, 20)
    .action((stream: string, options: { reason?: string; replay: boolean; cursor?: number; limit: number }) =>
      runDeadLetters({ ...common(), stream, ...options }, out),
    );

  cli
    .command('serve')
    .description('start the HTTP server (ingest, dead letters, health)')
    .option('--port <port>', 'port to listen on', positiveInteger, 7070)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--insecure-dev', 'run without API keys when none are configured (trusted machines only)', false)
    .action((options: { port: number; host: string; insecureDev: boolean }) =>
      runServe({ ...common(), ...options }, out),
    );

  cli
    .command('validate')
    .description('check the definitions and print every problem with its place')
    .action(() => runValidate(common(), out));
  return cli;
}

/** Runs the CLI with process-style argv; returns the exit code. */
export async function run(argv: readonly string[], out: Output = consoleOutput): Promise<number> {
  try {
    await program(out).parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliError) {
      process.stderr.write(`tributary: ${error.message}\n`);
      return error.exitCode;
    }
    // Typed errors of the library (a code TRIBUTARY_…) explain themselves: report them, without a stack.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('TRIBUTARY_')) {
      process.stderr.write(`tributary: ${(error as Error).message}\n`);
      return 1;
    }
    process.stderr.write(
      `tributary: unexpected error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 70;
  }
}
