/** An event as the core sees it: already validated and normalised by the contracts layer. */
export interface CoreEvent {
  /** Event time, epoch ms UTC. */
  readonly time: number;
  /** Arrival sequence of its stream: orders ties of equal event time (later arrival = more recent). */
  readonly seq: number;
  readonly fields: Readonly<Record<string, unknown>>;
}
