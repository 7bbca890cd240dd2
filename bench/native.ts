/**
 * The benchmarks' native tools: bench/<name>.c, compiled with the system's C compiler on first use and again when
 * the source changes, into .bench-build/bin/ (not in git).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of bench/<name>.c's executable, compiled if it is missing or older than its source. */
export function nativeTool(name: string): string {
  // This module runs from .bench-build/bench/: the source is in the repository's bench/.
  const source = fileURLToPath(new URL(`../../bench/${name}.c`, import.meta.url));
  const binary = fileURLToPath(new URL(`../bin/${name}`, import.meta.url));
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  mkdirSync(dirname(binary), { recursive: true });
  const compiler = process.env.CC ?? 'cc';
  try {
    execFileSync(compiler, ['-O2', '-Wall', '-o', binary, source, '-lm'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(
        `bench/${name}.c needs a C compiler, and \`${compiler}\` was not found: install one (Debian: apt-get install gcc) or set CC`,
      );
    throw new Error(`\`${compiler}\` could not compile bench/${name}.c: its messages are above`);
  }
  return binary;
}
