import { type MessageAttributeValue, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { utf8Length } from '../../domain/rows/limits.js';
import type { DeadLetter, DeadLetterPort, DeadLetterReport } from '../../ports/dead-letters.js';

/**
 * SQS limits: 10 entries per SendMessageBatch; a message (body + attribute names, types and values) and the
 * whole batch are each bounded by 1 MiB (raised from 256 KiB in 2025; the DLQs are created with
 * MaximumMessageSize 1048576). A source message is at most 256 KB, so a poison body always fits with its
 * attributes.
 */
const MAX_BATCH_ENTRIES = 10;
export const MAX_SQS_PAYLOAD_BYTES = 1024 * 1024;
const MAX_REASON_CHARS = 1000;
/** What the reason is cut to when a letter is too large with its full attributes. */
const SHORT_REASON_CHARS = 200;
/** Batches in flight at once; once the signal aborts, no further batch starts. */
const MAX_CONCURRENT_BATCHES = 10;

/** Error names put in the report for letters this adapter did not get into the DLQ without an SQS error. */
export const DEAD_LETTER_ERRORS = {
  /** The caller's signal aborted before or while the letter was sent. */
  aborted: 'aborted',
  /** The body is too large for an SQS message even with shortened attributes. */
  tooLarge: 'too-large',
  /** SQS listed the entry neither as successful nor as failed. */
  unreported: 'unreported',
} as const;

/** Message attribute names the forwarder sets on a dead letter (documented in the README). */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'bridge.reason',
  field: 'bridge.field',
  source: 'bridge.source',
  itemId: 'bridge.itemId',
  originalMessageId: 'bridge.originalMessageId',
} as const;

interface Entry {
  readonly letter: DeadLetter;
  readonly body: string;
  readonly attrs: Record<string, MessageAttributeValue>;
  readonly bytes: number;
}

function attributes(letter: DeadLetter, compact: boolean): Record<string, MessageAttributeValue> {
  // SQS accepts only XML characters in attribute values; anything else (control characters, U+FFFF, lone
  // surrogates) would make it refuse the letter, which would then reach the DLQ late and without its reason.
  const text = (value: string): MessageAttributeValue => ({
    DataType: 'String',
    StringValue: value.replace(/[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '\ufffd'),
  });
  const reason = letter.reason.slice(0, compact ? SHORT_REASON_CHARS : MAX_REASON_CHARS) || 'unknown';
  const out: Record<string, MessageAttributeValue> = {
    [DEAD_LETTER_ATTRIBUTES.reason]: text(reason),
    [DEAD_LETTER_ATTRIBUTES.field]: text(letter.field === '' ? '(item)' : letter.field),
    [DEAD_LETTER_ATTRIBUTES.source]: text(letter.source),
    [DEAD_LETTER_ATTRIBUTES.originalMessageId]: text(letter.messageId),
  };
  if (letter.itemId && !compact) out[DEAD_LETTER_ATTRIBUTES.itemId] = text(letter.itemId);
  return out;
}

/** Size as SQS counts it: the body plus every attribute's name, data type and value. */
function payloadBytes(body: string, attrs: Record<string, MessageAttributeValue>): number {
  let bytes = utf8Length(body);
  for (const [name, value] of Object.entries(attrs)) {
    bytes += utf8Length(name) + utf8Length(value.DataType ?? '') + utf8Length(value.StringValue ?? '');
  }
  return bytes;
}

/**
 * The letter as an SQS entry within the size limit: with all attributes, else without `bridge.itemId` and with
 * the reason cut to 200 characters, else undefined (the body alone is too large).
 */
function entryOf(letter: DeadLetter): Entry | undefined {
  const body = letter.body === '' ? '(empty body)' : letter.body;
  for (const compact of [false, true]) {
    const attrs = attributes(letter, compact);
    const bytes = payloadBytes(body, attrs);
    if (bytes <= MAX_SQS_PAYLOAD_BYTES) return { letter, body, attrs, bytes };
  }
  return undefined;
}

/** An error name or SQS code, reduced to a short token: the report goes to the log and must carry no content. */
function errorName(value: unknown): string {
  const raw = typeof value === 'string' ? value : value instanceof Error ? value.name : '';
  const token = raw.replace(/[^A-Za-z0-9._:-]/g, '').slice(0, 80);
  return token === '' ? 'Error' : token;
}

/** Settles when the signal aborts (never, without a signal); `cancel` drops the listener. */
function abortOf(signal: AbortSignal | undefined): { promise: Promise<'aborted'>; cancel: () => void } {
  if (signal === undefined) return { promise: new Promise<'aborted'>(() => {}), cancel: () => {} };
  let cancel = (): void => {};
  const promise = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) {
      resolve('aborted');
      return;
    }
    const onAbort = (): void => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    cancel = () => signal.removeEventListener('abort', onAbort);
  });
  return { promise, cancel };
}

/**
 * Dead letters straight into the function's DLQ with `SendMessageBatch`: the original body unchanged (so a
 * redrive replays it as it came) and the reason in message attributes. A letter SQS refuses, or one not sent
 * because `signal` aborted, is reported as failed: the caller then returns the message to its queue, where
 * the redrive policy still moves it to the DLQ after maxReceiveCount, so a dead letter is never dropped. A call
 * cut short by the signal may still have been stored by SQS; then the message is in the DLQ and back in its
 * queue (at least once, never lost). `errors` names why sends failed, each cause once (error names and SQS
 * entry codes, never message bodies or error messages).
 */
export function createSqsDeadLetterAdapter(client: SQSClient, queueUrl: string): DeadLetterPort {
  return {
    async send(letters: readonly DeadLetter[], signal?: AbortSignal): Promise<DeadLetterReport> {
      const failed: string[] = [];
      const errors = new Set<string>();
      const fail = (entries: readonly { letter: DeadLetter }[], error: string): void => {
        for (const { letter } of entries) failed.push(letter.messageId);
        if (entries.length > 0) errors.add(error);
      };

      const batches: Entry[][] = [];
      let current: Entry[] = [];
      let currentBytes = 0;
      for (const letter of letters) {
        const entry = entryOf(letter);
        if (entry === undefined) {
          fail([{ letter }], DEAD_LETTER_ERRORS.tooLarge);
          continue;
        }
        if (current.length === MAX_BATCH_ENTRIES || currentBytes + entry.bytes > MAX_SQS_PAYLOAD_BYTES) {
          batches.push(current);
          current = [];
          currentBytes = 0;
        }
        current.push(entry);
        currentBytes += entry.bytes;
      }
      if (current.length > 0) batches.push(current);

      const sendBatch = async (batch: readonly Entry[]): Promise<void> => {
        if (signal?.aborted) {
          fail(batch, DEAD_LETTER_ERRORS.aborted);
          return;
        }
        const aborted = abortOf(signal);
        try {
          const call = client.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: batch.map(({ body, attrs }, index) => ({
                Id: String(index),
                MessageBody: body,
                MessageAttributes: attrs,
              })),
            }),
            signal === undefined ? {} : { abortSignal: signal },
          );
          // Not left to the SDK alone: it honours the signal in the HTTP request, not in every step before it.
          const result = await Promise.race([call, aborted.promise]);
          if (result === 'aborted') {
            fail(batch, DEAD_LETTER_ERRORS.aborted);
            return;
          }
          const successful = new Set((result.Successful ?? []).map((entry) => entry.Id));
          const refused = new Map((result.Failed ?? []).map((entry) => [entry.Id, entry.Code]));
          batch.forEach((entry, index) => {
            const id = String(index);
            if (refused.has(id)) fail([entry], errorName(refused.get(id)));
            else if (!successful.has(id)) fail([entry], DEAD_LETTER_ERRORS.unreported);
          });
        } catch (error) {
          fail(batch, signal?.aborted ? DEAD_LETTER_ERRORS.aborted : errorName(error));
        } finally {
          aborted.cancel();
        }
      };

      let next = 0;
      const worker = async (): Promise<void> => {
        for (let batch = batches[next++]; batch !== undefined; batch = batches[next++])
          await sendBatch(batch);
      };
      await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_BATCHES, batches.length) }, worker));
      return errors.size > 0 ? { failed, errors: [...errors] } : { failed };
    },
  };
}
