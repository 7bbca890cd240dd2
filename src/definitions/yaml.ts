/** Reads `tributary.yaml` text (not the file: the caller does I/O) and locates paths in it for error messages. */
import { isNode, LineCounter, parseDocument } from 'yaml';
import { type CompileResult, compileDefinitions } from './compile.js';

export function compileYaml(text: string, file = 'tributary.yaml'): CompileResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length) {
    return {
      ok: false,
      problems: document.errors.map((error) => {
        const at = lineCounter.linePos(error.pos[0]);
        return {
          file,
          path: [],
          ...(at ? { line: at.line, column: at.col } : {}),
          message: `YAML syntax: ${error.message.split('\n')[0]}`,
          hint: 'fix the YAML syntax first (indentation, colons, quotes)',
        };
      }),
    };
  }
  const locate = (path: readonly (string | number)[]) => {
    // The deepest node that exists on the path: a missing key points at its parent.
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return undefined;
  };
  return compileDefinitions(document.toJS(), { file, locate });
}
