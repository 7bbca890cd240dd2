/** The definitions library and the evaluation core must stay pure: no I/O, no clock, no randomness. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const PURE_FOLDERS = ['src/definitions', 'src/expressions', 'src/engine/core'];
const FORBIDDEN = [
  /from ['"](node:)?(fs|net|http|https|child_process|worker_threads|dgram|os|process|fs\/promises)['"]/,
  /\bDate\.now\(|new Date\(|performance\.now\(|process\.hrtime|Math\.random\(|setTimeout\(|setInterval\(/,
  /\bprocess\.(env|argv|stdout|stderr|exit)/,
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('purity of the core', () => {
  it.each(PURE_FOLDERS)('%s imports no I/O and reads no clock', (folder) => {
    const offenders = files(folder).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return FORBIDDEN.filter((pattern) => pattern.test(text)).map((pattern) => `${file}: ${pattern}`);
    });
    expect(offenders).toEqual([]);
  });

  it('the core never imports the runtimes', () => {
    const offenders = PURE_FOLDERS.flatMap(files).filter((file) =>
      /from ['"][./]*(cli|serving|log|state|contracts|engine\/(online|offline))\//.test(
        readFileSync(file, 'utf8'),
      ),
    );
    expect(offenders).toEqual([]);
  });
});
