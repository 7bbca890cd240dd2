/**
 * API keys with scopes (interface.md): `ingest:<stream>`, `read:<view>`, `admin` (everything), and `*` forms
 * such as `read:*`. Keys are stored only as SHA-256 hashes, in `.tributary/keys.json`; a key is shown once, when
 * it is created. Requests send `Authorization: Bearer <key>`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeDurably } from '../log/embedded/durable-file.js';

export interface StoredKey {
  readonly name: string;
  /** `sha256:<hex>` of the key. */
  readonly hash: string;
  readonly scopes: readonly string[];
  readonly createdAt: string;
}

const SCOPE = /^(admin|(ingest|read):([A-Za-z_][A-Za-z0-9_]*|\*))$/;

export class ApiKeyError extends Error {
  readonly code = 'TRIBUTARY_API_KEY';
}

export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

export class ApiKeys {
  private readonly byHash: Map<string, StoredKey>;

  private constructor(
    private readonly file: string,
    readonly keys: StoredKey[],
  ) {
    this.byHash = new Map(keys.map((k) => [k.hash, k]));
  }

  static open(file: string): ApiKeys {
    if (!existsSync(file)) return new ApiKeys(file, []);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { keys?: StoredKey[] };
    return new ApiKeys(file, parsed.keys ?? []);
  }

  get configured(): boolean {
    return this.keys.length > 0;
  }

  /** Creates a key; returns it in clear (the only time it exists outside its holder). */
  add(name: string, scopes: readonly string[], now = new Date()): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(name))
      throw new ApiKeyError(`a key's name is letters, digits, . _ or -: \`${name}\``);
    if (this.keys.some((k) => k.name === name))
      throw new ApiKeyError(`a key named \`${name}\` exists; remove it first`);
    if (!scopes.length)
      throw new ApiKeyError('give at least one --scope (ingest:<stream>, read:<view>, admin)');
    for (const scope of scopes)
      if (!SCOPE.test(scope))
        throw new ApiKeyError(
          `\`${scope}\` is not a scope: use ingest:<stream>, read:<view> (or * for all) or admin`,
        );
    const key = `trb_${randomBytes(24).toString('base64url')}`;
    const stored: StoredKey = { name, hash: hashKey(key), scopes: [...scopes], createdAt: now.toISOString() };
    this.keys.push(stored);
    this.byHash.set(stored.hash, stored);
    this.save();
    return key;
  }

  remove(name: string): boolean {
    const at = this.keys.findIndex((k) => k.name === name);
    if (at < 0) return false;
    this.byHash.delete(this.keys[at]!.hash);
    this.keys.splice(at, 1);
    this.save();
    return true;
  }

  private save(): void {
    writeDurably(this.file, `${JSON.stringify({ keys: this.keys }, null, 2)}\n`);
  }

  /** The key a bearer token names, or null. */
  find(token: string): StoredKey | null {
    return this.byHash.get(hashKey(token)) ?? null;
  }
}

/** True when the key's scopes grant `needed` (e.g. `read:fraud`). */
export function allows(key: StoredKey, needed: string): boolean {
  if (key.scopes.includes('admin') || key.scopes.includes(needed)) return true;
  const [kind] = needed.split(':');
  return needed !== 'admin' && key.scopes.includes(`${kind}:*`);
}
