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
 * The answer is written as bytes into a buffer the writer keeps (json-bytes.ts) and made a string once: integers
 * digit by digit, a plain key as it is, lists element by element, other values through JSON.stringify. Built by
 * string concatenation, it left ~2.5 KB of garbage per read (two cons strings per value, then the flattened copy):
 * a fifth of all a GET allocates, and every ~13 MB allocated is a scavenge, a pause of every read
 * (docs/serving.md). An answer with a character beyond ASCII is written by concatenation.
 *
 * No value is ever formatted by `${value}` or String(value): those go through V8's number-to-string cache, an
 * old-generation table that then holds each new number's string until a full collection. Twenty fresh numbers
 * per read kept ~300 KB of young strings alive through every scavenge and made each one copy them: 1.3–2.5 ms
 * pauses instead of ~0.1–0.3, and those pauses were the read p99 (docs/decisions.md). JSON.stringify formats a
 * number without the cache, and writes NaN and infinities as null.
 */
import { isPlainPropertyName, type Vector } from '../engine/core/view-engine.js';
import { asciiBytes, isAscii, JsonBytes } from './json-bytes.js';

/** The answer's JSON text, or null when a feature's value is undefined (JSON.stringify would drop it). */
export type AnswerJson = (key: string, at: number, features: Vector) => string | null;

/**
 * Compiles the writer of view `view` (entity `entity`, vector properties `names` in order), or returns null
 * when a name is not a plain identifier (an integer-like name would change the property order).
 */
export function compileAnswerJson(view: string, entity: string, names: readonly string[]): AnswerJson | null {
  if (!names.every(isPlainPropertyName)) return null;
  const constants = answerConstants(view, entity, names);
  const byConcatenation = compileByConcatenation(constants, names);
  if (!constants.every(isAscii)) return byConcatenation;
  const constant = (i: number) => writeConstant(constants[i]!, `c[${i}]`);
  const lines = ['let p, b;', 'out.start();', constant(0), 'out.string(key);', constant(1), 'out.value(at);'];
  names.forEach((name, i) => {
    lines.push(constant(i + 2), `if (!out.value(features[${JSON.stringify(name)}])) return null;`);
  });
  lines.push(
    constant(names.length + 2),
    'return out.ascii ? out.text() : byConcatenation(key, at, features);',
  );
  const compile = new Function(
    'out',
    'c',
    'byConcatenation',
    `return (key, at, features) => {\n${lines.join('\n')}\n};`,
  );
  return compile(new JsonBytes(), constants.map(asciiBytes), byConcatenation) as AnswerJson;
}

/** Constants up to this many bytes are written by a store per byte in the compiled code, longer ones by set(). */
const UNROLLED_CONSTANT_MAX = 64;

/**
 * The code that writes an ASCII constant: a store per byte, with its values in the code, for a short one, where a
 * set() call per constant cost more than its copy (with lists written element by element: 1.79 → 1.37 µs per
 * fraud20 answer, measured); `source` (its bytes) is copied by set() otherwise.
 */
function writeConstant(text: string, source: string): string {
  if (text.length > UNROLLED_CONSTANT_MAX) return `out.constant(${source});`;
  const stores = Array.from(text, (_, i) => `b[p + ${i}] = ${text.charCodeAt(i)};`);
  return `p = out.reserve(${text.length}); b = out.bytes; ${stores.join(' ')}`;
}

/**
 * The answer's constant texts, in order: up to the key, from the key to the time, before each feature's value
 * (its name), and the end.
 */
function answerConstants(view: string, entity: string, names: readonly string[]): string[] {
  return [
    `{"view":${JSON.stringify(view)},"keys":{${JSON.stringify(entity)}:`,
    '},"at":',
    ...names.map((name, i) => `${i ? ',' : ',"features":{'}${JSON.stringify(name)}:`),
    names.length ? '}}' : ',"features":{}}',
  ];
}

/** The writer by string concatenation, for answers with a character beyond ASCII. */
function compileByConcatenation(constants: readonly string[], names: readonly string[]): AnswerJson {
  const literal = (text: string) => JSON.stringify(text);
  const lines = [
    `let s = ${literal(constants[0]!)} + JSON.stringify(key) + ${literal(constants[1]!)} + JSON.stringify(at);`,
    'let v;',
  ];
  names.forEach((name, i) => {
    lines.push(
      `v = features[${literal(name)}];`,
      'if (v === undefined) return null;',
      `s += ${literal(constants[i + 2]!)} + JSON.stringify(v);`,
    );
  });
  lines.push(`return s + ${literal(constants[names.length + 2]!)};`);
  return new Function('key', 'at', 'features', lines.join('\n')) as AnswerJson;
}
