/**
 * `tributary serve`: the HTTP server over the project's embedded log and online state. With API keys configured
 * (`tributary keys add`) every request needs one; without, it starts only with `--insecure-dev`, and says so.
 * SIGINT/SIGTERM drain requests, write a checkpoint and close the log.
 */
import { SchemaRegistry } from '../../contracts/registry.js';
import { OnlineProcessor } from '../../engine/online/processor.js';
import { hostLatencyWarnings } from '../../monitor/host-latency.js';
import { ApiKeys } from '../../serving/api-keys.js';
import { buildServer } from '../../serving/server.js';
import { CheckpointStore } from '../../state/checkpoint-store.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { checkpointDir, keysPath, openProject, registryPath } from '../runtime.js';

const CHECKPOINT_EVERY_MS = 60_000;

export async function runServe(
  options: { project: string; port: number; host: string; insecureDev: boolean },
  out: Output,
): Promise<void> {
  const apiKeys = ApiKeys.open(keysPath(options.project));
  if (!apiKeys.configured && !options.insecureDev) {
    throw new CliError(
      'no API keys are configured, so the server would accept anyone: create one with `tributary keys add <name> --scope admin`, or start with --insecure-dev on a trusted machine only',
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
  const processor = await OnlineProcessor.open({
    plan: project.plan,
    log: project.log,
    checkpoints: new CheckpointStore(checkpointDir(options.project)),
  });
  const status = processor.status();
  out.step(
    status.restoredFrom === 'checkpoint'
      ? `state: restored from the checkpoint; replaying ${status.behind.toLocaleString('en-US')} newer records`
      : `state: building from the log (${status.behind.toLocaleString('en-US')} records${status.behind ? '; reads answer 503 until done' : ''})`,
  );
  const app = await buildServer({
    plan: project.plan,
    log: project.log,
    intake: project.intake,
    registry,
    processor,
    apiKeys,
    logger: { level: 'info' },
  });
  processor.start();
  void processor.catchUp().then(
    () => out.step(`state: ready (${processor.status().applied.toLocaleString('en-US')} records applied)`),
    (error) => out.step(`state: applying the log failed: ${(error as Error).message}`),
  );
  // A checkpoint now and then bounds the replay after a crash.
  const checkpoints = setInterval(() => void processor.checkpoint().catch(() => {}), CHECKPOINT_EVERY_MS);
  checkpoints.unref();
  await app.listen({ port: options.port, host: options.host });
  const where = `http://${options.host}:${options.port} (plan ${project.plan.hash})`;
  if (apiKeys.configured) {
    if (options.insecureDev)
      out.step('--insecure-dev is ignored: API keys are configured, so every request needs one');
    out.step(`Listening on ${where}; ${apiKeys.keys.length} API key(s) configured`);
  } else out.step(`WARNING: --insecure-dev: no authentication. Listening on ${where}`);
  for (const warning of hostLatencyWarnings()) out.step(`WARNING: ${warning}`);
  await new Promise<void>((resolve) => {
    const stop = async () => {
      out.step('stopping: draining requests, writing a checkpoint, closing the log…');
      clearInterval(checkpoints);
      await app.close();
      await processor.catchUp();
      await processor.stop();
      await processor.checkpoint();
      await project.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
