/** Runs work written as a generator of steps (it yields between steps) to its end, at once; returns its result. */
export function finish<T>(steps: Generator<unknown, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
