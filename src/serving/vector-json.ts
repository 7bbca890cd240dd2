/**
 * A one-entity view's GET answer, `{"view":…,"keys":{…},"at":…,"features":{…}}`, written as JSON text by a
 * function compiled for the view: its property names are constants in the code, and only the key, the time and
 * the values are formatted per read. The text is the one JSON.stringify gives for the same answer (a property
 * test holds it to that).
 *
 * Why: JSON.stringify walks the answer's objects and escapes every property name on every read. Under the serve
 * benchmark's load that was ~3% of the server's CPU samples, and each µs of CPU per read lengthens the time the
 * server takes to catch up after any stall (docs/serving.md).
 *
 * Every value, numbers included, is written by JSON.stringify, never by `${value}` or String(value): those go
 * through V8's number-to-string cache, an old-generation table that then holds each new number's string until a
 * full collection. Twenty fresh numbers per read kept ~300 KB of young strings alive through every scavenge and
 * made each one copy them: 1.3–2.5 ms pauses instead of ~0.1–0.3, and those pauses were the read p99
 * (docs/decisions.md). JSON.stringify formats a number without the cache, and writes NaN and infinities as null.
 */
import { isPlainPropertyName, type Vector } from '../engine/core/view-engine.js';

/** The answer's JSON text, or null when a feature's value is undefined (JSON.stringify would drop it). */
export type AnswerJson = (key: string, at: number, features: Vector) => string | null;

/**
 * Compiles the writer of view `view` (entity `entity`, vector properties `names` in order), or returns null
 * when a name is not a plain identifier (an integer-like name would change the property order).
 */
export function compileAnswerJson(view: string, entity: string, names: readonly string[]): AnswerJson | null {
  if (!names.every(isPlainPropertyName)) return null;
  const literal = (text: string) => JSON.stringify(text);
  const lines = [
    `let s = ${literal(`{"view":${JSON.stringify(view)},"keys":{${JSON.stringify(entity)}:`)} + JSON.stringify(key)`,
    `  + ${literal('},"at":')} + JSON.stringify(at) + ${literal(',"features":{')};`,
    'let v;',
  ];
  names.forEach((name, i) => {
    const prefix = `${i ? ',' : ''}${JSON.stringify(name)}:`;
    lines.push(
      `v = features[${literal(name)}];`,
      'if (v === undefined) return null;',
      `s += ${literal(prefix)} + JSON.stringify(v);`,
    );
  });
  lines.push(`return s + '}}';`);
  return new Function('key', 'at', 'features', lines.join('\n')) as AnswerJson;
}
