import { type MessageAttributeValue, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { utf8Length } from '../../domain/rows/limits.js';
import type { DeadLetter, DeadLetterPort, DeadLetterReport } from '../../ports/dead-letters.js';

/** SQS limits: 10 entries per SendMessageBatch; the batch's total payload is bounded like one message. */
const MAX_BATCH_ENTRIES = 10;
export const MAX_SQS_PAYLOAD_BYTES = 256 * 1024;
const MAX_REASON_CHARS = 1000;

/** Message attribute names the forwarder sets on a dead letter (documented in the README). */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'bridge.reason',
  field: 'bridge.field',
  source: 'bridge.source',
  itemId: 'bridge.itemId',
  originalMessageId: 'bridge.originalMessageId',
} as const;

function attributes(letter: DeadLetter): Record<string, MessageAttributeValue> {
  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  const out: Record<string, MessageAttributeValue> = {
    [DEAD_LETTER_ATTRIBUTES.reason]: text(letter.reason.slice(0, MAX_REASON_CHARS) || 'unknown'),
    [DEAD_LETTER_ATTRIBUTES.field]: text(letter.field === '' ? '(item)' : letter.field),
    [DEAD_LETTER_ATTRIBUTES.source]: text(letter.source),
    [DEAD_LETTER_ATTRIBUTES.originalMessageId]: text(letter.messageId),
  };
  if (letter.itemId) out[DEAD_LETTER_ATTRIBUTES.itemId] = text(letter.itemId);
  return out;
}

function payloadBytes(letter: DeadLetter, attrs: Record<string, MessageAttributeValue>): number {
  let bytes = utf8Length(letter.body);
  for (const [name, value] of Object.entries(attrs)) {
    bytes += utf8Length(name) + utf8Length(value.DataType ?? '') + utf8Length(value.StringValue ?? '');
  }
  return bytes;
}

/**
 * Dead letters straight into the function's DLQ with `SendMessageBatch`: the original body unchanged (so a
 * redrive replays it as it came) and the reason in message attributes. An entry SQS refuses is reported as
 * failed: the caller then returns the message to its queue, where the redrive policy still moves it to the
 * DLQ after maxReceiveCount, so a dead letter is never dropped.
 */
export function createSqsDeadLetterAdapter(client: SQSClient, queueUrl: string): DeadLetterPort {
  return {
    async send(letters: readonly DeadLetter[]): Promise<DeadLetterReport> {
      const failed: string[] = [];
      const batches: { letter: DeadLetter; attrs: Record<string, MessageAttributeValue> }[][] = [];
      let current: (typeof batches)[number] = [];
      let currentBytes = 0;
      for (const letter of letters) {
        const attrs = attributes(letter);
        const bytes = payloadBytes(letter, attrs);
        if (bytes > MAX_SQS_PAYLOAD_BYTES) {
          failed.push(letter.messageId);
          continue;
        }
        if (current.length === MAX_BATCH_ENTRIES || currentBytes + bytes > MAX_SQS_PAYLOAD_BYTES) {
          batches.push(current);
          current = [];
          currentBytes = 0;
        }
        current.push({ letter, attrs });
        currentBytes += bytes;
      }
      if (current.length > 0) batches.push(current);

      await Promise.all(
        batches.map(async (batch) => {
          try {
            const result = await client.send(
              new SendMessageBatchCommand({
                QueueUrl: queueUrl,
                Entries: batch.map(({ letter, attrs }, index) => ({
                  Id: String(index),
                  MessageBody: letter.body === '' ? '(empty body)' : letter.body,
                  MessageAttributes: attrs,
                })),
              }),
            );
            for (const entry of result.Failed ?? []) {
              const letter = batch[Number(entry.Id)]?.letter;
              if (letter) failed.push(letter.messageId);
            }
          } catch {
            for (const { letter } of batch) failed.push(letter.messageId);
          }
        }),
      );
      return { failed };
    },
  };
}
