/** Where a definition problem is: the file, the path of keys inside it, and the line and column when known. */
export interface DefinitionPlace {
  readonly file: string;
  readonly path: readonly (string | number)[];
  readonly line?: number;
  readonly column?: number;
}

/** One problem in a project's definitions: where it is, what is wrong, and what would be right. */
export interface DefinitionProblem extends DefinitionPlace {
  readonly message: string;
  readonly hint?: string;
}

export function formatPlace(place: DefinitionPlace): string {
  const at = place.line === undefined ? '' : `:${place.line}:${place.column ?? 1}`;
  const path = place.path.length ? ` (${place.path.join('.')})` : '';
  return `${place.file}${at}${path}`;
}

export function formatProblem(problem: DefinitionProblem): string {
  return `${formatPlace(problem)}: ${problem.message}${problem.hint ? `\n    hint: ${problem.hint}` : ''}`;
}

/** Thrown when definitions cannot compile; carries every problem found, not just the first. */
export class DefinitionError extends Error {
  readonly code = 'TRIBUTARY_DEFINITION_INVALID';
  constructor(readonly problems: readonly DefinitionProblem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the definitions:\n${problems
        .map((p) => `  ${formatProblem(p)}`)
        .join('\n')}`,
    );
    this.name = 'DefinitionError';
  }
}
