/**
 * Interns the values of a categorical column (strings, booleans, numbers used as categories) into dense ids,
 * so that timelines store Int32 ids and sketches hash each distinct value once. -1 stands for null.
 */
import { hashValue } from './operators/hash.js';

export class Dictionary {
  private readonly ids = new Map<unknown, number>();
  readonly values: unknown[] = [];
  private hashes = new Uint32Array(64);

  idOf(value: unknown): number {
    if (value === null || value === undefined) return -1;
    const key = typeof value === 'object' ? JSON.stringify(value) : value;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(key, id);
      this.values.push(value);
      if (id >= this.hashes.length) {
        const grown = new Uint32Array(this.hashes.length * 2);
        grown.set(this.hashes);
        this.hashes = grown;
      }
      this.hashes[id] = hashValue(value);
    }
    return id;
  }

  hashOf(id: number): number {
    return this.hashes[id]!;
  }

  get size(): number {
    return this.values.length;
  }
}
