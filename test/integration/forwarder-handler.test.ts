import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SQSBatchResponse } from 'aws-lambda';
import { createForwarderHandler, type ForwarderHandlerDeps } from '../../aws-functions/forwarder.js';
import {
  createSqsDeadLetterAdapter,
  DEAD_LETTER_ATTRIBUTES,
} from '../../shared/adapters/aws/sqs-dead-letters.js';
import { createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import { MAX_ROW_BYTES, TRUNCATION_MARKER } from '../../shared/domain/rows/limits.js';
import { staticTokenCredential } from '../../shared/local/https-server.js';
import { type IngestionServer, startIngestionServer } from '../../shared/local/ingestion-server.js';
import { cloudTrailEvent, guardDutyEvent, sqsEvent } from '../support/events.js';
import { lambdaContext, quietObservability } from '../support/lambda.js';
import { SqsModel } from '../support/sqs-model.js';

const DLQ = 'https://sqs.us-east-1.amazonaws.com/111122223333/guardduty-findings-dlq';

let server: IngestionServer;
beforeAll(async () => {
  server = await startIngestionServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
});

function deps(
  sqs: SqsModel,
  options: { retries?: number; token?: string; safetyMarginMs?: number } = {},
): ForwarderHandlerDeps {
  const token = options.token ?? server.token;
  return {
    ...quietObservability(),
    ingestion: createLogsIngestionAdapter({
      endpoint: server.endpoint,
      ruleId: server.dcrImmutableId,
      credential: staticTokenCredential(token),
      clientOptions: {
        tlsOptions: { ca: server.ca },
        retryOptions: { maxRetries: options.retries ?? 0, retryDelayInMs: 10 },
      },
    }),
    deadLetters: createSqsDeadLetterAdapter(sqs.client, DLQ),
    ...(options.safetyMarginMs !== undefined ? { safetyMarginMs: options.safetyMarginMs } : {}),
  };
}

const failedIds = (response: SQSBatchResponse): string[] =>
  response.batchItemFailures.map((f) => f.itemIdentifier).sort();
const bodies = (n: number, make = guardDutyEvent, extra: Record<string, unknown> = {}): string[] =>
  Array.from({ length: n }, (_, i) => JSON.stringify(make(i, extra)));

/** A finding whose description makes its row about 50 KB, so a few dozen fill one request. */
const bulky = { description: 'd'.repeat(50_000) };

describe('guardduty-findings and iam-changes handlers against the local Logs Ingestion API over HTTPS', () => {
  it('writes a batch of GuardDuty findings into AWSGuardDuty with only declared columns of the right types', async () => {
    const handler = createForwarderHandler('guardduty', deps(new SqsModel()));
    const response = await handler(sqsEvent(bodies(50)), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(server.rows('AWSGuardDuty')).toHaveLength(50);
    expect(server.rows('AWSGuardDuty')[0]).toMatchObject({
      Severity: 8,
      ActivityType: 'Backdoor:EC2/C&CActivity.B!DNS',
    });
    const stats = server.stats();
    expect(stats.requests).toBe(1);
    expect([...stats.unknownColumns]).toEqual([]);
    expect(stats.typeErrors).toEqual([]);
    expect(server.requests[0]?.gzip).toBe(true);
  });

  it('writes CloudTrail IAM changes into AWSCloudTrail', async () => {
    const handler = createForwarderHandler('cloudtrail', deps(new SqsModel()));
    const response = await handler(
      sqsEvent(bodies(20, cloudTrailEvent), 'iam-changes'),
      lambdaContext('iam-changes'),
    );
    expect(response.batchItemFailures).toEqual([]);
    const rows = server.rows('AWSCloudTrail');
    expect(rows).toHaveLength(20);
    expect(rows[0]).toMatchObject({
      EventName: 'CreateUser',
      UserIdentityType: 'IAMUser',
      ReadOnly: false,
      TlsVersion: 'TLSv1.3',
    });
    expect(typeof rows[0]?.RequestParameters).toBe('string');
    expect([...server.stats().unknownColumns]).toEqual([]);
  });

  it('returns exactly the records of a request that failed with 500 and delivers the others', async () => {
    const handler = createForwarderHandler('guardduty', deps(new SqsModel()));
    server.injectFaults({ kind: 'server-error' });
    const event = sqsEvent(bodies(60, guardDutyEvent, bulky));
    const response = await handler(event, lambdaContext());
    const stored = new Set(server.rows('AWSGuardDuty').map((r) => r.Id));
    expect(server.stats().requests).toBeGreaterThanOrEqual(3);
    expect(response.batchItemFailures.length).toBeGreaterThan(0);
    expect(response.batchItemFailures.length).toBeLessThan(60);
    // Every message is either stored or returned, never both, never neither.
    event.Records.forEach((record, i) => {
      const id = `f${String(i).padStart(31, '0')}`;
      const returned = response.batchItemFailures.some((f) => f.itemIdentifier === record.messageId);
      expect(stored.has(id) !== returned).toBe(true);
    });
  });

  it('waits out a 429 with Retry-After and delivers everything', async () => {
    const handler = createForwarderHandler('guardduty', deps(new SqsModel(), { retries: 2 }));
    server.injectFaults({ kind: 'throttle', retryAfterSeconds: 1 });
    const response = await handler(sqsEvent(bodies(10)), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(server.rows('AWSGuardDuty')).toHaveLength(10);
    expect(server.requests.map((r) => r.status)).toEqual([429, 204]);
  });

  it('returns the records of a dropped connection and of a 429 without Retry-After for a later retry', async () => {
    const handler = createForwarderHandler('guardduty', deps(new SqsModel()));
    server.injectFaults({ kind: 'reset' });
    expect(failedIds(await handler(sqsEvent(bodies(5)), lambdaContext()))).toEqual([
      'msg-0',
      'msg-1',
      'msg-2',
      'msg-3',
      'msg-4',
    ]);
    server.injectFaults({ kind: 'throttle-no-retry-after' });
    expect(failedIds(await handler(sqsEvent(bodies(3)), lambdaContext()))).toEqual([
      'msg-0',
      'msg-1',
      'msg-2',
    ]);
    expect(server.rows('AWSGuardDuty')).toHaveLength(0);
  });

  it('gives up on a hanging request before the function times out and returns its records', async () => {
    const handler = createForwarderHandler('guardduty', deps(new SqsModel(), { safetyMarginMs: 1_000 }));
    server.injectFaults({ kind: 'timeout', delayMs: 5_000 });
    const started = Date.now();
    const response = await handler(sqsEvent(bodies(4)), lambdaContext('guardduty-findings', 2_500));
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(failedIds(response)).toEqual(['msg-0', 'msg-1', 'msg-2', 'msg-3']);
  });

  it('sends a poison record to the DLQ with its reason in one attempt, not through retries', async () => {
    const sqs = new SqsModel();
    const handler = createForwarderHandler('guardduty', deps(sqs));
    const good = bodies(2);
    const poison = JSON.stringify(guardDutyEvent(9, { updatedAt: 'yesterday' }));
    const response = await handler(sqsEvent([good[0] ?? '', poison, good[1] ?? '']), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(server.rows('AWSGuardDuty')).toHaveLength(2);
    const [letter] = sqs.messages(DLQ);
    expect(letter?.body).toBe(poison);
    expect(letter?.attributes[DEAD_LETTER_ATTRIBUTES.field]?.StringValue).toBe('updatedAt');
    expect(letter?.attributes[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toMatch(/ISO 8601/);
  });

  it('trims a field over 64 KB with a marker so the service never truncates it', async () => {
    const handler = createForwarderHandler('guardduty', deps(new SqsModel()));
    const response = await handler(
      sqsEvent(bodies(1, guardDutyEvent, { title: 't'.repeat(100_000) })),
      lambdaContext(),
    );
    expect(response.batchItemFailures).toEqual([]);
    const [row] = server.rows('AWSGuardDuty');
    expect(String(row?.Title).endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(server.stats().oversizeFields).toEqual([]);
  });

  it('delivers a record over 1 MB trimmed below the request limit instead of looping on 413', async () => {
    const handler = createForwarderHandler('cloudtrail', deps(new SqsModel()));
    const huge: Record<string, unknown> = {};
    for (let i = 0; i < 30; i++) huge[`k${i}`] = 'v'.repeat(60_000);
    const body = JSON.stringify(
      cloudTrailEvent(1, {
        requestParameters: huge,
        responseElements: huge,
        userAgent: 'u'.repeat(60_000),
        errorMessage: 'e'.repeat(60_000),
      }),
    );
    expect(body.length).toBeGreaterThan(1_048_576);
    const response = await handler(sqsEvent([body], 'iam-changes'), lambdaContext('iam-changes'));
    expect(response.batchItemFailures).toEqual([]);
    expect(server.requests.map((r) => r.status)).toEqual([204]);
    expect(server.requests[0]?.uncompressedBytes).toBeLessThanOrEqual(MAX_ROW_BYTES + 2);
    expect(server.stats().oversizeFields).toEqual([]);
  });

  it('returns every record when the token is refused, and stores nothing', async () => {
    const handler = createForwarderHandler('guardduty', deps(new SqsModel(), { token: 'stolen-or-expired' }));
    const response = await handler(sqsEvent(bodies(3)), lambdaContext());
    expect(failedIds(response)).toEqual(['msg-0', 'msg-1', 'msg-2']);
    expect(server.requests.map((r) => r.status)).toEqual([401]);
    expect(server.rows('AWSGuardDuty')).toHaveLength(0);
  });

  it('loses nothing under random faults: redelivering what is returned delivers every event exactly once', async () => {
    const sqs = new SqsModel();
    const handler = createForwarderHandler('guardduty', deps(sqs));
    server.setFaultRate({
      probability: 0.3,
      kinds: ['server-error', 'reset', 'throttle-no-retry-after'],
      seed: 7,
    });
    let pending = bodies(300, guardDutyEvent, { description: 'x'.repeat(10_000) });
    pending.push('{"detail-type":"GuardDuty Finding","detail":{"id":"broken"}}');
    for (let round = 0; round < 30 && pending.length > 0; round++) {
      const event = sqsEvent(pending);
      const response = await handler(event, lambdaContext());
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      pending = event.Records.filter((r) => failed.has(r.messageId)).map((r) => r.body);
    }
    server.setFaultRate();
    expect(pending).toEqual([]);
    const ids = server.rows('AWSGuardDuty').map((r) => String(r.Id));
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    expect(sqs.messages(DLQ)).toHaveLength(1);
    expect(server.stats().faultedRequests).toBeGreaterThan(0);
  });
});
