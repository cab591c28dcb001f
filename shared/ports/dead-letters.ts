/** A message that can never succeed, sent to the dead-letter queue in one attempt with its reason. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly source: string;
  /** The offending field, relative to the finding / record ('' for the whole item). */
  readonly field: string;
  readonly reason: string;
  /** Finding id / event id, when one could be read. */
  readonly itemId?: string;
}

export interface DeadLetterReport {
  /** Message ids that could not be dead-lettered (they go back to the queue instead, nothing is dropped). */
  readonly failed: readonly string[];
  /** Why sends failed (error names or SQS codes, no message bodies), for the log. */
  readonly errors?: readonly string[];
}

export interface DeadLetterPort {
  /** Sends the letters; stops (reporting the unsent ones as failed) once `signal` aborts. */
  send(letters: readonly DeadLetter[], signal?: AbortSignal): Promise<DeadLetterReport>;
}
