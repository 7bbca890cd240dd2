/**
 * `tributary serve`: the HTTP server over the project's embedded log. API keys are not configurable yet, so the
 * server starts only with `--insecure-dev`, and says so. SIGINT/SIGTERM drain requests and close the log.
 */
import { SchemaRegistry } from '../../contracts/registry.js';
import { buildServer } from '../../serving/server.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { openProject, registryPath } from '../runtime.js';

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
  const registry = SchemaRegistry.open(registryPath(options.project));
  const { registered, refused } = registry.syncFromPlan(project.plan);
  if (refused.length) {
    await project.close();
    throw new CliError(
      `tributary.yaml changes a stream's schema incompatibly, so the server does not start:\n${refused
        .map((r) => `  ${r.stream}:\n    ${r.problems.join('\n    ')}`)
        .join(
          '\n',
        )}\nMake the change compatible (see docs/schemas.md), or change the stream's \`compatibility\` on purpose.`,
    );
  }
  for (const r of registered) out.step(`schema registry: ${r.subject} version ${r.version} (id ${r.id})`);
  const app = await buildServer({
    plan: project.plan,
    log: project.log,
    intake: project.intake,
    registry,
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
