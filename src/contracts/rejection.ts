/** Why an event was refused. Every refused event is dead-lettered with one of these reasons and a detail. */
export const REJECTION_REASONS = [
  'malformed_json',
  'not_an_object',
  'too_large',
  'schema_violation',
  'missing_key',
  'missing_time',
  'unparsable_time',
  'ambiguous_time',
  'future_time',
  'unknown_stream',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface Rejection {
  readonly reason: RejectionReason;
  /** What exactly is wrong, for the producer: the field and the expectation. */
  readonly detail: string;
}
