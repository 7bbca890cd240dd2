/**
 * Starts a worker thread running the module `name` that sits beside `from` (the caller's import.meta.url):
 * compiled, the JavaScript file; from TypeScript sources (tests, tsx), the .ts file through tsx's loader.
 */
import { Worker } from 'node:worker_threads';

export function startWorker(from: string, name: string, workerData: unknown): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, from), { workerData });
  const source = JSON.stringify(new URL(`./${name}.ts`, from).href);
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); });`,
    { eval: true, workerData },
  );
}
