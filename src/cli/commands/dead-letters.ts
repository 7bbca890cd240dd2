/** `tributary dead-letters <stream> [--reason r] [--replay]`: inspect refused events, or replay them after a fix. */
import { UNKNOWN_STREAM } from '../../contracts/dead-letters.js';
import type { Output } from '../output.js';
import { openProject, requireSource } from '../runtime.js';

export interface DeadLettersOptions {
  project: string;
  json: boolean;
  stream: string;
  reason?: string;
  replay: boolean;
  cursor?: number;
  limit: number;
}

export async function runDeadLetters(options: DeadLettersOptions, out: Output): Promise<void> {
  const project = await openProject(options.project);
  try {
    if (options.stream !== UNKNOWN_STREAM) requireSource(project.plan, options.stream);
    if (options.replay) {
      const { replayed, result } = await project.intake.replay(
        options.stream,
        options.reason ? { reason: options.reason } : {},
      );
      if (options.json)
        out.json({
          replayed,
          accepted: result.accepted,
          duplicates: result.duplicates,
          stillRejected: result.rejected.length,
        });
      else
        out.line(
          `replayed ${replayed} dead letter(s) of ${options.stream}: ${result.accepted} accepted, ${result.duplicates} duplicates; ${result.rejected.length} still refused (kept for the next fix)`,
        );
      return;
    }
    const page = await project.intake.deadLetters.list(options.stream, {
      limit: options.limit,
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
    });
    const counts = Object.fromEntries(await project.intake.deadLetters.countsOf(options.stream));
    if (options.json) {
      out.json({ counts, letters: page.letters, nextCursor: page.nextCursor });
      return;
    }
    out.line(
      `${options.stream}: ${
        Object.entries(counts)
          .map(([r, n]) => `${r} ${n}`)
          .join(', ') || 'no dead letters'
      }`,
    );
    for (const letter of page.letters) {
      const raw = letter.raw.length > 80 ? `${letter.raw.slice(0, 77)}...` : letter.raw;
      out.line(
        `  #${letter.offset}  ${new Date(letter.arrivalTime).toISOString()}  ${letter.rejection.reason}: ${letter.rejection.detail}${letter.line ? ` (${letter.source ? `${letter.source}:` : 'line '}${letter.line})` : ''}\n      ${raw}`,
      );
    }
    if (page.nextCursor !== null) out.line(`more: --cursor ${page.nextCursor}`);
  } finally {
    await project.close();
  }
}
