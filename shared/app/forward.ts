import { type NormaliseOutcome, normaliseItem, type SourceName } from '../domain/sources.js';
import { AWS_CLOUDTRAIL, AWS_GUARDDUTY, type TableDefinition } from '../domain/tables/columns.js';
import type { DeadLetter, DeadLetterPort, DeadLetterReport } from '../ports/dead-letters.js';
import type { LogsIngestionPort, UploadReport } from '../ports/logs-ingestion.js';

/** One queued message: an SQS record's id and body (an EventBridge event as JSON text). */
export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
}

export type MessageOutcome =
  | { readonly status: 'delivered'; readonly itemId: string; readonly trimmed: readonly string[] }
  | {
      readonly status: 'dead-lettered';
      readonly field: string;
      readonly reason: string;
      readonly itemId?: string;
    }
  | { readonly status: 'retry'; readonly reason: string; readonly itemId?: string };

export interface ForwardReport {
  readonly outcomes: ReadonlyMap<string, MessageOutcome>;
  readonly received: number;
  readonly delivered: number;
  readonly deadLettered: number;
  readonly retry: number;
  /** Messages whose body repeated another one of the same batch (uploaded once, settled together). */
  readonly duplicatesInBatch: number;
  readonly trimmedFields: number;
  readonly requests: number;
  readonly bytes: number;
  /** Why dead letters could not be sent, when some could not (error names, no bodies). */
  readonly deadLetterErrors: readonly string[];
  /**
   * Delivered rows whose `TimeGenerated` the service replaces with the time of receipt (older than 2 days
   * or more than 1 day ahead): worth an alarm, since rules then see them at the wrong time.
   */
  readonly staleTimestamps: number;
}

export interface ForwardDeps {
  readonly ingestion: LogsIngestionPort;
  readonly deadLetters: DeadLetterPort;
  /** Clock, for the stale-timestamp count (default Date.now). */
  readonly now?: () => number;
}

/** The service keeps `TimeGenerated` only within [now - 2 days, now + 1 day]. */
const KEPT_PAST_MS = 2 * 24 * 3_600_000;
const KEPT_FUTURE_MS = 24 * 3_600_000;

export interface ForwardSignals {
  /** The invocation's time budget: once aborted, nothing new is started and unsent messages are retried. */
  readonly signal?: AbortSignal;
  /** An earlier deadline for uploads, so dead letters for rows the API refused can still be sent. */
  readonly uploadSignal?: AbortSignal;
}

const TABLE_OF: Readonly<Record<SourceName, TableDefinition>> = {
  guardduty: AWS_GUARDDUTY,
  cloudtrail: AWS_CLOUDTRAIL,
};

export function streamOf(source: SourceName): string {
  return TABLE_OF[source].stream;
}

const NO_UPLOAD: UploadReport = { failures: [], requests: 0, bytes: 0 };
const NO_LETTERS: DeadLetterReport = { failed: [] };

/** Parses and normalises one message; never throws (hostile input becomes a refusal of that message). */
function normaliseMessage(source: SourceName, body: string): NormaliseOutcome {
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch {
    return { ok: false, field: '', reason: 'message body is not JSON' };
  }
  try {
    return normaliseItem(source, input);
  } catch (error) {
    const reason =
      error instanceof RangeError
        ? 'the event is nested too deeply to process'
        : 'the event could not be processed';
    return { ok: false, field: '', reason };
  }
}

/**
 * Forwards a batch of queued events of one source to its Sentinel table:
 * validate + normalise each message, send the ones that can never succeed to the dead-letter queue with
 * their reason (one attempt, no pointless retries), upload the rest in as few requests as the API allows,
 * and say per message whether it was delivered or must be retried. Nothing is dropped: every message ends
 * `delivered`, `dead-lettered` or `retry` (which the caller returns to the queue), whatever the input.
 */
export async function forwardMessages(
  source: SourceName,
  messages: readonly QueueMessage[],
  deps: ForwardDeps,
  signals: ForwardSignals = {},
): Promise<ForwardReport> {
  const outcomes = new Map<string, MessageOutcome>();
  // Only each row's JSON text (and its time) is kept: the row objects become garbage right after they are
  // serialised, which keeps a 10,000-message batch out of the old generation of the heap.
  const texts: string[] = [];
  const sizes: number[] = [];
  const times: unknown[] = [];
  /** For each uploaded row, the messages it stands for (more than one when the batch held duplicates). */
  const carriers: { messageIds: string[]; itemId: string; trimmed: readonly string[] }[] = [];
  const byBody = new Map<string, number>();
  const letters: DeadLetter[] = [];
  let duplicatesInBatch = 0;
  let trimmedFields = 0;

  for (const message of messages) {
    // The same message twice in one batch (SQS and EventBridge are at-least-once): upload it once. Keyed on
    // the exact body, so two different events can never be merged, whatever their ids.
    const existing = byBody.get(message.body);
    if (existing !== undefined) {
      carriers[existing]?.messageIds.push(message.messageId);
      duplicatesInBatch++;
      continue;
    }
    const outcome = normaliseMessage(source, message.body);
    if (!outcome.ok) {
      letters.push({
        messageId: message.messageId,
        body: message.body,
        source,
        field: outcome.field,
        reason: outcome.reason,
        ...(outcome.id !== undefined ? { itemId: outcome.id } : {}),
      });
      continue;
    }
    byBody.set(message.body, texts.length);
    texts.push(outcome.json);
    sizes.push(outcome.bytes);
    times.push(outcome.row.TimeGenerated);
    carriers.push({ messageIds: [message.messageId], itemId: outcome.id, trimmed: outcome.trimmed });
    trimmedFields += outcome.trimmed.length;
  }
  const uploadSignal = signals.uploadSignal ?? signals.signal;
  const [upload, deadLetterReport] = await Promise.all([
    texts.length > 0
      ? deps.ingestion.uploadTexts(streamOf(source), texts, {
          sizes,
          ...(uploadSignal ? { signal: uploadSignal } : {}),
        })
      : Promise.resolve(NO_UPLOAD),
    letters.length > 0 ? deps.deadLetters.send(letters, signals.signal) : Promise.resolve(NO_LETTERS),
  ]);

  const failedIndex = new Map(upload.failures.map((f) => [f.index, f]));
  const bodyOf = new Map(messages.map((m) => [m.messageId, m.body]));
  const permanentLetters: DeadLetter[] = [];
  carriers.forEach((carrier, index) => {
    const failure = failedIndex.get(index);
    for (const messageId of carrier.messageIds) {
      if (!failure) {
        outcomes.set(messageId, { status: 'delivered', itemId: carrier.itemId, trimmed: carrier.trimmed });
      } else if (failure.permanent) {
        permanentLetters.push({
          messageId,
          body: bodyOf.get(messageId) ?? '',
          source,
          field: '',
          reason: `refused by the Logs Ingestion API${failure.status ? ` (HTTP ${failure.status})` : ''}: ${failure.message}`,
          itemId: carrier.itemId,
        });
      } else {
        outcomes.set(messageId, { status: 'retry', reason: failure.message, itemId: carrier.itemId });
      }
    }
  });

  const lateReport =
    permanentLetters.length > 0 ? await deps.deadLetters.send(permanentLetters, signals.signal) : NO_LETTERS;
  const notDeadLettered = new Set([...deadLetterReport.failed, ...lateReport.failed]);
  for (const letter of [...letters, ...permanentLetters]) {
    const itemId = letter.itemId !== undefined ? { itemId: letter.itemId } : {};
    if (notDeadLettered.has(letter.messageId)) {
      outcomes.set(letter.messageId, {
        status: 'retry',
        reason: `could not be sent to the dead-letter queue (${letter.reason})`,
        ...itemId,
      });
    } else {
      outcomes.set(letter.messageId, {
        status: 'dead-lettered',
        field: letter.field,
        reason: letter.reason,
        ...itemId,
      });
    }
  }
  // Every message has exactly one outcome; one the steps above did not settle is retried, never dropped.
  for (const message of messages) {
    if (!outcomes.has(message.messageId)) {
      outcomes.set(message.messageId, {
        status: 'retry',
        reason: 'no outcome was recorded for this message',
      });
    }
  }

  const now = (deps.now ?? Date.now)();
  let staleTimestamps = 0;
  carriers.forEach((carrier, index) => {
    const time = Date.parse(String(times[index]));
    const stale = time < now - KEPT_PAST_MS || time > now + KEPT_FUTURE_MS;
    if (stale && outcomes.get(carrier.messageIds[0] ?? '')?.status === 'delivered') staleTimestamps++;
  });

  let delivered = 0;
  let deadLettered = 0;
  let retry = 0;
  for (const outcome of outcomes.values()) {
    if (outcome.status === 'delivered') delivered++;
    else if (outcome.status === 'dead-lettered') deadLettered++;
    else retry++;
  }
  return {
    outcomes,
    received: messages.length,
    delivered,
    deadLettered,
    retry,
    duplicatesInBatch,
    trimmedFields,
    requests: upload.requests,
    bytes: upload.bytes,
    deadLetterErrors: [...(deadLetterReport.errors ?? []), ...(lateReport.errors ?? [])],
    staleTimestamps,
  };
}
