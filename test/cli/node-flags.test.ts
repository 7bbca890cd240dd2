/** The `tributary` command starts node with the options of src/cli/node-flags.ts, through its shebang. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../src/cli/node-flags.js';

const bin = join(new URL('../../', import.meta.url).pathname, 'bin/tributary.js');

describe('node options of the tributary command', () => {
  it('are the shebang of bin/tributary.js, and the bin runs as an executable with them', () => {
    const [shebang] = readFileSync(bin, 'utf8').split('\n');
    expect(shebang).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
    // Run as the npm shim runs it: the kernel reads the shebang, env splits it.
    const probe = spawnSync(bin, ['--help'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` },
    });
    expect(probe.stderr).not.toMatch(/bad option|unknown option|No such file/);
    expect(probe.status).toBe(0);
    expect(probe.stdout).toContain('tributary');
  });
});
