#!/usr/bin/env -S node --initial-old-space-size=256
// Node options: see src/cli/node-flags.ts (a test holds this line to it).
// The CLI is compiled to dist/ by `npm run build` (run automatically by `npm install`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error(
    'tributary: the CLI is not built yet. Run `npm install` (or `npm run build`) in the tributary folder first.',
  );
  process.exit(2);
}
const { run } = await import(main);
process.exitCode = await run(process.argv);
