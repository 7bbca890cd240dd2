/** Benchmark processes: a script of bench/ started in a child process, ready once it prints a JSON line. */
import { type ChildProcess, spawn } from 'node:child_process';
import { NODE_FLAGS } from '../src/cli/node-flags.js';

/**
 * Starts bench/<script>.js (e.g. `serve/server-process`) with the node options of the `tributary` command (as
 * `tributary serve` runs) and `nodeOptions`; resolves with the JSON line it prints when ready.
 */
export function startChild<T>(
  script: string,
  args: string[],
  nodeOptions: string[] = [],
): Promise<T & { child: ChildProcess }> {
  const path = new URL(`./${script}.js`, import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeOptions, path, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, ...(JSON.parse(line) as T) });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
}
