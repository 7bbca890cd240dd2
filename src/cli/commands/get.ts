/**
 * `tributary get <view> <key> [--at <time>]`: one feature vector. When no server owns the project, the state is
 * loaded from the last checkpoint and the log after it; when a server owns it (the log is locked), the read is
 * sent to that server (`--server`, default http://127.0.0.1:7070; an API key from TRIBUTARY_API_KEY).
 */

import { join } from 'node:path';
import { OnlineProcessor } from '../../engine/online/processor.js';
import { EmbeddedLog } from '../../log/embedded/embedded-log.js';
import { LogError } from '../../log/log.js';
import { parseAt } from '../../serving/read-routes.js';
import { CheckpointStore } from '../../state/checkpoint-store.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { checkpointDir, loadPlan, stateDir } from '../runtime.js';

export interface GetOptions {
  readonly project: string;
  readonly json: boolean;
  readonly view: string;
  readonly key: string;
  readonly at?: string;
  readonly server: string;
}

function show(
  vector: { view: string; keys: Record<string, string>; at: number; features: Record<string, unknown> },
  out: Output,
  json: boolean,
) {
  if (json) {
    out.json(vector);
    return;
  }
  out.line(
    `${vector.view} for ${Object.entries(vector.keys)
      .map(([e, k]) => `${e} ${k}`)
      .join(', ')} as of ${new Date(vector.at).toISOString()}`,
  );
  const width = Math.max(...Object.keys(vector.features).map((n) => n.length));
  for (const [name, value] of Object.entries(vector.features))
    out.line(`  ${name.padEnd(width)}  ${JSON.stringify(value)}`);
}

async function viaServer(options: GetOptions, out: Output, reason: string): Promise<void> {
  const url = new URL(
    `/v1/views/${encodeURIComponent(options.view)}/${encodeURIComponent(options.key)}`,
    options.server,
  );
  if (options.at) url.searchParams.set('at', options.at);
  url.searchParams.set('consistent', 'true');
  const key = process.env.TRIBUTARY_API_KEY;
  let response: Response;
  try {
    response = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  } catch (error) {
    throw new CliError(
      `${reason}, and no server answers at ${options.server} (${(error as Error).message}): start \`tributary serve\`, or pass --server <url>`,
    );
  }
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok)
    throw new CliError(
      `the server answered ${response.status}: ${String(body.error ?? JSON.stringify(body))}`,
    );
  show(body as never, out, options.json);
}

export async function runGet(options: GetOptions, out: Output): Promise<void> {
  const plan = await loadPlan(options.project);
  const view = plan.views[options.view];
  if (!view)
    throw new CliError(
      `unknown view \`${options.view}\`; the views are ${Object.keys(plan.views).join(', ') || 'none'}`,
    );
  if (view.entities.length !== 1)
    throw new CliError(
      `view \`${options.view}\` has entities ${view.entities.join(', ')}: read it with POST /v1/views/${options.view}/batch`,
    );
  let at: number;
  try {
    at = parseAt(options.at, Date.now());
  } catch (error) {
    throw new CliError(`--at ${options.at}: ${(error as Error).message}`);
  }
  let log: EmbeddedLog;
  try {
    log = await EmbeddedLog.open(join(stateDir(options.project), 'log'));
  } catch (error) {
    if (error instanceof LogError) return viaServer(options, out, error.message);
    throw error;
  }
  try {
    const checkpoints = new CheckpointStore(checkpointDir(options.project));
    const processor = await OnlineProcessor.open({ plan, log, checkpoints });
    const replay = processor.status().behind;
    await processor.catchUp();
    if (replay > 10_000) await processor.checkpoint(); // the next `get` starts from here
    const keys = { [view.entities[0]!]: options.key };
    try {
      show(
        { view: options.view, keys, at, features: processor.read(options.view, keys, at) },
        out,
        options.json,
      );
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  } finally {
    await log.close();
  }
}
