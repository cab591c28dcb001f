import type { Row } from '../../shared/domain/rows/row.js';
import type { DeadLetter, DeadLetterPort, DeadLetterReport } from '../../shared/ports/dead-letters.js';
import type {
  LogsIngestionPort,
  UploadFailure,
  UploadOptions,
  UploadReport,
} from '../../shared/ports/logs-ingestion.js';

/** A stateful in-memory stand-in for a DCR: stores accepted rows per stream; failures are scripted per call. */
export class InMemoryIngestion implements LogsIngestionPort {
  readonly accepted = new Map<string, Row[]>();
  calls = 0;
  /** Decides per row index whether the row fails on this call (and how). */
  failWhen: (row: Row, index: number, call: number) => Omit<UploadFailure, 'index'> | undefined = () =>
    undefined;

  lastOptions: UploadOptions | undefined;

  async upload(stream: string, rows: readonly Row[], options?: UploadOptions): Promise<UploadReport> {
    this.lastOptions = options;
    const call = ++this.calls;
    const failures: UploadFailure[] = [];
    const stored = this.accepted.get(stream) ?? [];
    rows.forEach((row, index) => {
      const failure = this.failWhen(row, index, call);
      if (failure) failures.push({ index, ...failure });
      else stored.push(row);
    });
    this.accepted.set(stream, stored);
    return { failures, requests: 1, bytes: JSON.stringify(rows).length };
  }

  async uploadTexts(
    stream: string,
    texts: readonly string[],
    options?: UploadOptions,
  ): Promise<UploadReport> {
    return this.upload(
      stream,
      texts.map((text) => JSON.parse(text) as Row),
      options,
    );
  }

  rows(stream: string): Row[] {
    return this.accepted.get(stream) ?? [];
  }
}

/** A dead-letter queue that keeps what it was sent; `refuse` makes chosen messages fail to send. */
export class InMemoryDeadLetters implements DeadLetterPort {
  readonly letters: DeadLetter[] = [];
  refuse: (letter: DeadLetter) => boolean = () => false;

  async send(letters: readonly DeadLetter[]): Promise<DeadLetterReport> {
    const failed: string[] = [];
    for (const letter of letters) {
      if (this.refuse(letter)) failed.push(letter.messageId);
      else this.letters.push(letter);
    }
    return { failed };
  }
}
