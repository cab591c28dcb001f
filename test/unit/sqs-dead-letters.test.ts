import { describe, expect, it } from '@jest/globals';
import {
  createSqsDeadLetterAdapter,
  DEAD_LETTER_ATTRIBUTES,
} from '../../shared/adapters/aws/sqs-dead-letters.js';
import type { DeadLetter } from '../../shared/ports/dead-letters.js';
import { SqsModel } from '../support/sqs-model.js';

const DLQ = 'https://sqs.us-east-1.amazonaws.com/111122223333/guardduty-findings-dlq';

const letter = (n: number, body = `{"n":${n}}`): DeadLetter => ({
  messageId: `m${n}`,
  body,
  source: 'guardduty',
  field: 'severity',
  reason: 'Invalid input: expected number, received string',
  itemId: `finding-${n}`,
});

describe('SQS dead-letter adapter', () => {
  it('stores each dead letter with its original body and the reason in message attributes', async () => {
    const sqs = new SqsModel();
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([letter(1)]);
    expect(report.failed).toEqual([]);
    const [stored] = sqs.messages(DLQ);
    expect(stored?.body).toBe('{"n":1}');
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe(
      'Invalid input: expected number, received string',
    );
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.field]?.StringValue).toBe('severity');
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.source]?.StringValue).toBe('guardduty');
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.itemId]?.StringValue).toBe('finding-1');
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.originalMessageId]?.StringValue).toBe('m1');
  });

  it('sends 25 letters in batches of at most 10 and keeps all of them', async () => {
    const sqs = new SqsModel();
    const letters = Array.from({ length: 25 }, (_, i) => letter(i));
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send(letters);
    expect(report.failed).toEqual([]);
    expect(sqs.calls).toBe(3);
    expect(
      sqs
        .messages(DLQ)
        .map((m) => m.body)
        .sort(),
    ).toEqual(letters.map((l) => l.body).sort());
  });

  it('splits batches by size so large bodies stay within the SQS payload limit', async () => {
    const sqs = new SqsModel();
    const letters = Array.from({ length: 6 }, (_, i) => letter(i, 'x'.repeat(100_000)));
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send(letters);
    expect(report.failed).toEqual([]);
    expect(sqs.messages(DLQ)).toHaveLength(6);
    expect(sqs.calls).toBeGreaterThanOrEqual(3);
  });

  it('reports as failed the entries SQS refuses and a body too large to carry its reason', async () => {
    const sqs = new SqsModel();
    sqs.failEntries = (body) => body.includes('"n":2');
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([
      letter(1),
      letter(2),
      letter(3, 'y'.repeat(262_100)),
    ]);
    expect([...report.failed].sort()).toEqual(['m2', 'm3']);
    expect(sqs.messages(DLQ).map((m) => m.body)).toEqual(['{"n":1}']);
  });

  it('reports the whole batch as failed when the call itself fails', async () => {
    const sqs = new SqsModel();
    sqs.failCalls = true;
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([letter(1), letter(2)]);
    expect([...report.failed].sort()).toEqual(['m1', 'm2']);
    expect(sqs.messages(DLQ)).toEqual([]);
  });

  it('dead-letters an empty body as a visible placeholder, since SQS refuses empty messages', async () => {
    const sqs = new SqsModel();
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([letter(1, '')]);
    expect(report.failed).toEqual([]);
    expect(sqs.messages(DLQ)[0]?.body).toBe('(empty body)');
  });
});
