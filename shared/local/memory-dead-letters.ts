import type { DeadLetter, DeadLetterPort, DeadLetterReport } from '../ports/dead-letters.js';

/** A dead-letter queue in memory, for the CLI and the demo: keeps each refused message with its reason. */
export class MemoryDeadLetters implements DeadLetterPort {
  readonly letters: DeadLetter[] = [];

  async send(letters: readonly DeadLetter[]): Promise<DeadLetterReport> {
    this.letters.push(...letters);
    return { failed: [] };
  }
}
