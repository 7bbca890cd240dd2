/** Where the CLI writes: results to stdout, progress to stderr (so `--json` output stays clean). */
export interface Output {
  line(text: string): void;
  step(text: string): void;
  json(value: unknown): void;
}

export const consoleOutput: Output = {
  line: (text) => process.stdout.write(`${text}\n`),
  step: (text) => process.stderr.write(`${text}\n`),
  json: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
};
