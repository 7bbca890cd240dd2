/**
 * `tributary keys add <name> --scope <scope>…` (prints the key once; only its hash is stored), `keys list`,
 * `keys remove <name>`. Once a key exists, `serve` requires keys on every request but health checks.
 */
import { ApiKeyError, ApiKeys } from '../../serving/api-keys.js';
import { CliError } from '../errors.js';
import type { Output } from '../output.js';
import { keysPath } from '../runtime.js';

export function runKeys(
  options: { project: string; json: boolean; action: string; name?: string; scopes: readonly string[] },
  out: Output,
): void {
  const keys = ApiKeys.open(keysPath(options.project));
  try {
    if (options.action === 'add') {
      if (!options.name) throw new CliError('usage: tributary keys add <name> --scope <scope>…');
      const key = keys.add(options.name, options.scopes);
      if (options.json) out.json({ name: options.name, key, scopes: options.scopes });
      else {
        out.line(key);
        out.step(
          `key \`${options.name}\` (${options.scopes.join(', ')}): shown once, stored only as its hash; send it as Authorization: Bearer <key>`,
        );
      }
    } else if (options.action === 'list') {
      const listed = keys.keys.map(({ name, scopes, createdAt }) => ({ name, scopes, createdAt }));
      if (options.json) out.json(listed);
      else if (!listed.length) out.line('no API keys: `tributary serve` runs only with --insecure-dev');
      else
        for (const k of listed)
          out.line(`${k.name.padEnd(20)} ${k.scopes.join(', ')}  (created ${k.createdAt})`);
    } else if (options.action === 'remove') {
      if (!options.name || !keys.remove(options.name))
        throw new CliError(`no key named \`${options.name ?? ''}\``);
      out.line(`removed key \`${options.name}\``);
    } else throw new CliError(`unknown action \`${options.action}\`: use add, list or remove`);
  } catch (error) {
    if (error instanceof ApiKeyError) throw new CliError(error.message);
    throw error;
  }
}
