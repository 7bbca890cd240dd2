/** The `tributary` command line. Exit 0 on success; non-zero with a message that says what to do. */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { runDemo } from './commands/demo.js';
import { runInit } from './commands/init.js';
import { runValidate } from './commands/validate.js';
import { CliError } from './errors.js';
import { consoleOutput, type Output } from './output.js';

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a whole number above 0');
  return parsed;
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
    .option('--out <dir>', 'where the training set is written', '.tributary/demo')
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
    process.stderr.write(
      `tributary: unexpected error (please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 70;
  }
}
