/**
 * `tributary serve`: the HTTP server over the project's embedded log. API keys are not configurable yet, so the
 * server starts only with `--insecure-dev`, and says so. SIGINT/SIGTERM drain requests and close the log.
 */
import { buildServer } from '../../serving/server.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { openProject } from '../runtime.js';

export async function runServe(
  options: { project: string; port: number; host: string; insecureDev: boolean },
  out: Output,
): Promise<void> {
  if (!options.insecureDev) {
    throw new CliError(
      'no API keys are configured, so the server would accept anyone: start it with --insecure-dev on a trusted machine only (API keys with scopes are planned)',
    );
  }
  const project = await openProject(options.project);
  const app = await buildServer({
    plan: project.plan,
    log: project.log,
    intake: project.intake,
    logger: { level: 'info' },
  });
  await app.listen({ port: options.port, host: options.host });
  out.step(
    `WARNING: --insecure-dev: no authentication. Listening on http://${options.host}:${options.port} (plan ${project.plan.hash})`,
  );
  await new Promise<void>((resolve) => {
    const stop = async () => {
      out.step('stopping: draining requests, closing the log…');
      await app.close();
      await project.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
