import { describe, expect, it } from '@jest/globals';
import {
  createSqsDeadLetterAdapter,
  DEAD_LETTER_ATTRIBUTES,
  MAX_SQS_PAYLOAD_BYTES,
} from '../../shared/adapters/aws/sqs-dead-letters.js';
import type { DeadLetter } from '../../shared/ports/dead-letters.js';
import { SQS_MAX_BATCH_BYTES, SqsModel } from '../support/sqs-model.js';

const DLQ = 'https://sqs.us-east-1.amazonaws.com/111122223333/guardduty-findings-dlq';
/** The largest message an EventBridge rule can put on the source queue. */
const SOURCE_LIMIT_BYTES = 256 * 1024;

const letter = (n: number, body = `{"n":${n}}`): DeadLetter => ({
  messageId: `m${n}`,
  body,
  source: 'guardduty',
  field: 'severity',
  reason: 'Invalid input: expected number, received string',
  itemId: `finding-${n}`,
});

/** Lets pending promise callbacks run (the model answers in microtasks). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SQS dead-letter adapter', () => {
  it('stores each dead letter with its original body and the reason in message attributes', async () => {
    const sqs = new SqsModel();
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([letter(1)]);
    expect(report).toEqual({ failed: [] });
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

  it('packs batches up to the 1 MiB request limit', async () => {
    expect(MAX_SQS_PAYLOAD_BYTES).toBe(1_048_576);
    const sqs = new SqsModel();
    // Three 300 KB letters fit one request (~900 KB); the fourth starts the next one.
    const letters = Array.from({ length: 7 }, (_, i) => letter(i, 'x'.repeat(300_000)));
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send(letters);
    expect(report).toEqual({ failed: [] });
    expect(sqs.messages(DLQ)).toHaveLength(7);
    expect(sqs.calls).toBe(3);
  });

  it('dead-letters a poison body at the 256 KB source limit with all its attributes', async () => {
    const sqs = new SqsModel();
    const poison = { ...letter(1, 'z'.repeat(SOURCE_LIMIT_BYTES)), reason: 'r'.repeat(5000) };
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([poison, letter(2)]);
    expect(report).toEqual({ failed: [] });
    const [stored] = sqs.messages(DLQ);
    expect(stored?.body).toHaveLength(SOURCE_LIMIT_BYTES);
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.itemId]?.StringValue).toBe('finding-1');
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toHaveLength(1000);
  });

  it('drops the item id and shortens the reason of a letter too large with its full attributes', async () => {
    const sqs = new SqsModel();
    const huge = { ...letter(1, 'y'.repeat(SQS_MAX_BATCH_BYTES - 400)), reason: 'r'.repeat(1000) };
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([huge]);
    expect(report).toEqual({ failed: [] });
    const [stored] = sqs.messages(DLQ);
    expect(stored?.body).toBe(huge.body);
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.itemId]).toBeUndefined();
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('r'.repeat(200));
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.originalMessageId]?.StringValue).toBe('m1');
  });

  it('reports as failed the entries SQS refuses, with their codes, and a body too large for SQS', async () => {
    const sqs = new SqsModel();
    sqs.failEntries = (body) => body.includes('"n":2');
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([
      letter(1),
      letter(2),
      letter(3, 'y'.repeat(SQS_MAX_BATCH_BYTES)),
    ]);
    expect([...report.failed].sort()).toEqual(['m2', 'm3']);
    expect([...(report.errors ?? [])].sort()).toEqual(['InternalError', 'too-large']);
    expect(sqs.messages(DLQ).map((m) => m.body)).toEqual(['{"n":1}']);
  });

  it('reports the whole batch as failed when the call itself fails', async () => {
    const sqs = new SqsModel();
    sqs.failCalls = true;
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([letter(1), letter(2)]);
    expect([...report.failed].sort()).toEqual(['m1', 'm2']);
    expect(report.errors).toEqual(['TimeoutError']);
    expect(sqs.messages(DLQ)).toEqual([]);
  });

  it.each(['AccessDenied', 'KMS.DisabledException', 'TimeoutError'])(
    'records the error name %s of a failed call, once, and never a body or error message',
    async (name) => {
      const sqs = new SqsModel();
      sqs.failCalls = true;
      sqs.callError = name;
      const letters = Array.from({ length: 15 }, (_, i) => letter(i, `{"secret":"body-${i}"}`));
      const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send(letters);
      expect(report.failed).toHaveLength(15);
      expect(report.errors).toEqual([name]);
      expect(JSON.stringify(report.errors)).not.toMatch(/secret|body|hang up/);
    },
  );

  it('dead-letters an empty body as a visible placeholder, since SQS refuses empty messages', async () => {
    const sqs = new SqsModel();
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([letter(1, '')]);
    expect(report.failed).toEqual([]);
    expect(sqs.messages(DLQ)[0]?.body).toBe('(empty body)');
  });
});

describe('SQS dead-letter adapter with an abort signal', () => {
  it('sends nothing and reports every letter as aborted when the signal aborted before', async () => {
    const sqs = new SqsModel();
    const controller = new AbortController();
    controller.abort();
    const letters = Array.from({ length: 12 }, (_, i) => letter(i));
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send(letters, controller.signal);
    expect([...report.failed].sort()).toEqual(letters.map((l) => l.messageId).sort());
    expect(report.errors).toEqual(['aborted']);
    expect(sqs.calls).toBe(0);
    expect(sqs.messages(DLQ)).toEqual([]);
  });

  it('reports the letters of a hanging call as aborted once the signal aborts, and keeps the others', async () => {
    const sqs = new SqsModel();
    sqs.hangCall = (call) => call === 2;
    const controller = new AbortController();
    const letters = Array.from({ length: 20 }, (_, i) => letter(i));
    const sending = createSqsDeadLetterAdapter(sqs.client, DLQ).send(letters, controller.signal);
    await settle();
    expect(sqs.calls).toBe(2);
    controller.abort();
    const report = await sending;
    expect(report.failed).toHaveLength(10);
    expect(report.errors).toEqual(['aborted']);
    expect(sqs.messages(DLQ)).toHaveLength(10);
    // Every letter is either in the DLQ or reported as failed.
    expect(
      new Set([
        ...report.failed,
        ...sqs.messages(DLQ).map((m) => m.attributes[DEAD_LETTER_ATTRIBUTES.originalMessageId]?.StringValue),
      ]).size,
    ).toBe(20);
  });

  it('returns on abort even when the call itself ignores the signal', async () => {
    const sqs = new SqsModel();
    sqs.hangCall = () => true;
    sqs.honourAbort = false;
    const controller = new AbortController();
    const sending = createSqsDeadLetterAdapter(sqs.client, DLQ).send(
      [letter(1), letter(2)],
      controller.signal,
    );
    await settle();
    controller.abort();
    const report = await sending;
    expect([...report.failed].sort()).toEqual(['m1', 'm2']);
    expect(report.errors).toEqual(['aborted']);
  });

  it('starts no further batch after the signal aborts', async () => {
    const sqs = new SqsModel();
    // The first ten calls hang: every worker is busy when the signal aborts, so batches 11 and 12 never start.
    sqs.hangCall = (call) => call <= 10;
    const controller = new AbortController();
    const letters = Array.from({ length: 120 }, (_, i) => letter(i));
    const sending = createSqsDeadLetterAdapter(sqs.client, DLQ).send(letters, controller.signal);
    await settle();
    expect(sqs.calls).toBe(10);
    controller.abort();
    const report = await sending;
    expect(report.failed).toHaveLength(120);
    expect(report.errors).toEqual(['aborted']);
    expect(sqs.calls).toBe(10);
  });

  it('passes the signal to the SDK call, which ends a hanging request on abort', async () => {
    const sqs = new SqsModel();
    sqs.hangCall = () => true;
    const controller = new AbortController();
    const sending = createSqsDeadLetterAdapter(sqs.client, DLQ).send([letter(1)], controller.signal);
    await settle();
    expect(sqs.signals).toEqual([controller.signal]);
    controller.abort();
    expect(await sending).toEqual({ failed: ['m1'], errors: ['aborted'] });
  });

  it('sends without a signal as before', async () => {
    const sqs = new SqsModel();
    expect(await createSqsDeadLetterAdapter(sqs.client, DLQ).send([letter(1)])).toEqual({ failed: [] });
    expect(sqs.signals).toEqual([undefined]);
  });
});

describe('attribute characters', () => {
  it('replaces characters SQS refuses in attribute values, so the letter is accepted with its reason', async () => {
    const sqs = new SqsModel();
    const report = await createSqsDeadLetterAdapter(sqs.client, DLQ).send([
      { ...letter(1), itemId: 'f1\u0001', reason: 'bad detail-type "x\uffff"' },
    ]);
    expect(report.failed).toEqual([]);
    const [stored] = sqs.messages(DLQ);
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.itemId]?.StringValue).toBe('f1\ufffd');
    expect(stored?.attributes[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe('bad detail-type "x\ufffd"');
  });
});
