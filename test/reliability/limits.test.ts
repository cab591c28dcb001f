/**
 * The edges of the Logs Ingestion API and SQS, through the real forwarder handler over HTTPS to the local
 * server: field values over 64 KB, records over 1 MB, 256 KB SQS messages, every kind of unicode, and
 * `TimeGenerated` outside the window the service keeps (older than 2 days, more than 1 day ahead).
 */

import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SQSBatchResponse } from 'aws-lambda';
import { createForwarderHandler } from '../../aws-functions/forwarder.js';
import {
  createSqsDeadLetterAdapter,
  DEAD_LETTER_ATTRIBUTES,
} from '../../shared/adapters/aws/sqs-dead-letters.js';
import { createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import { forwardMessages } from '../../shared/app/forward.js';
import { jsonBytes, MAX_ROW_BYTES, TRUNCATION_MARKER, utf8Length } from '../../shared/domain/rows/limits.js';
import type { SourceName } from '../../shared/domain/sources.js';
import {
  type IngestionServer,
  MAX_BODY_BYTES,
  startIngestionServer,
} from '../../shared/local/ingestion-server.js';
import { cloudTrailEvent, guardDutyEvent, sqsEvent } from '../support/events.js';
import { lambdaContext, quietObservability } from '../support/lambda.js';
import { SqsModel } from '../support/sqs-model.js';
import { sqsRefusalOf } from './support/sqs-lambda.js';

const DLQ = 'https://sqs.us-east-1.amazonaws.com/111122223333/forwarder-dlq';
const FIELD_LIMIT = 64 * 1024;
const SQS_SOURCE_MESSAGE_BYTES = 256 * 1024;

/** Metrics that remember what the handler added (Powertools writes nothing in tests). */
class RecordingMetrics extends Metrics {
  readonly totals = new Map<string, number>();
  override addMetric(...args: Parameters<Metrics['addMetric']>): this {
    const [name, , value] = args;
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
    return super.addMetric(...args);
  }
}

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

function forwarder(source: SourceName, options: { now?: () => number } = {}) {
  const sqs = new SqsModel();
  const { logger } = quietObservability(`limits-${source}`);
  const metrics = new RecordingMetrics({ serviceName: `limits-${source}`, namespace: 'Test' });
  const deps = {
    logger,
    metrics,
    ingestion: createLogsIngestionAdapter({
      endpoint: server.endpoint,
      ruleId: server.dcrImmutableId,
      credential: server.credential,
      clientOptions: { tlsOptions: { ca: server.ca }, retryOptions: { maxRetries: 0 } },
    }),
    deadLetters: createSqsDeadLetterAdapter(sqs.client, DLQ),
    ...(options.now ? { now: options.now } : {}),
  };
  const handler = createForwarderHandler(source, deps);
  return {
    sqs,
    metrics,
    deps,
    send: (bodies: readonly string[]): Promise<SQSBatchResponse> =>
      handler(
        sqsEvent(bodies, source === 'guardduty' ? 'guardduty-findings' : 'iam-changes'),
        lambdaContext(source === 'guardduty' ? 'guardduty-findings' : 'iam-changes'),
      ),
  };
}

const rowsOf = (table: string): Record<string, unknown>[] => [...server.rows(table)];
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Every request answered 204 and within the API's 1 MB; the service would store every value whole. */
function expectAcceptedWithinLimits(): void {
  expect(server.requests.map((r) => r.status).filter((s) => s !== 204)).toEqual([]);
  for (const request of server.requests)
    expect(request.uncompressedBytes).toBeLessThanOrEqual(MAX_BODY_BYTES);
  const stats = server.stats();
  expect(stats.oversizeFields).toEqual([]);
  expect(stats.typeErrors).toEqual([]);
  expect([...stats.unknownColumns]).toEqual([]);
}

describe('field values over 64 KB', () => {
  it('cuts each to at most 64 KB with the marker, keeps unicode well-formed, JSON parseable and the rest intact', async () => {
    const { send, metrics } = forwarder('guardduty');
    const finding = guardDutyEvent(1, {
      title: '😀'.repeat(30_000), // 120 KB of 4-byte characters
      description: 'é'.repeat(50_000), // 100 KB of 2-byte characters
      resource: {
        resourceType: 'Instance',
        instanceDetails: {
          instanceId: 'i-0123456789abcdef0',
          tags: [{ key: 'huge', value: 'x'.repeat(200_000) }],
        },
      },
    });
    const response = await send([JSON.stringify(finding)]);
    expect(response.batchItemFailures).toEqual([]);
    const [row] = rowsOf('AWSGuardDuty');
    if (row === undefined) throw new Error('no row stored');
    for (const column of ['Title', 'Description']) {
      const value = String(row[column]);
      expect(utf8Length(value)).toBeLessThanOrEqual(FIELD_LIMIT);
      expect(utf8Length(value)).toBeGreaterThan(FIELD_LIMIT - 8);
      expect(value.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(LONE_SURROGATE.test(value)).toBe(false);
    }
    // The dynamic column keeps its structure: rules still read the instance id.
    const details = row.ResourceDetails as {
      instanceDetails: { instanceId: string; tags: { value: string }[] };
    };
    expect(jsonBytes(details)).toBeLessThanOrEqual(FIELD_LIMIT);
    expect(details.instanceDetails.instanceId).toBe('i-0123456789abcdef0');
    expect(details.instanceDetails.tags[0]?.value.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(row).toMatchObject({ Id: 'f0000000000000000000000000000001', Severity: 8, Region: 'us-east-1' });
    expect(metrics.totals.get('FieldsTrimmed')).toBe(3);
    expectAcceptedWithinLimits();
  });

  it('cuts a JSON-text column inside its JSON, escapes counted, so parse_json still works', async () => {
    const { send } = forwarder('cloudtrail');
    const record = cloudTrailEvent(1, {
      userAgent: 'ש'.repeat(35_000), // 70 KB of 2-byte characters
      // 40,000 quotes are 40 KB of UTF-8 but 80 KB of JSON text.
      requestParameters: { userName: 'alice', policyDocument: '"'.repeat(40_000) },
    });
    const response = await send([JSON.stringify(record)]);
    expect(response.batchItemFailures).toEqual([]);
    const [row] = rowsOf('AWSCloudTrail');
    expect(utf8Length(String(row?.UserAgent))).toBeLessThanOrEqual(FIELD_LIMIT);
    const parameters = String(row?.RequestParameters);
    expect(utf8Length(parameters)).toBeLessThanOrEqual(FIELD_LIMIT);
    const parsed = JSON.parse(parameters) as { userName: string; policyDocument: string };
    expect(parsed.userName).toBe('alice');
    expect(parsed.policyDocument.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(row?.EventName).toBe('CreateUser');
    expectAcceptedWithinLimits();
  });
});

describe('records over 1 MB', () => {
  it('delivers every record of a batch with several over 1 MB, each row under the request limit, no 413', async () => {
    const guardduty = forwarder('guardduty');
    const big: Record<string, string> = {};
    for (let i = 0; i < 20; i++) big[`k${i}`] = `${'v'.repeat(60_000)}`;
    const bodies = [
      ...Array.from({ length: 50 }, (_, i) => JSON.stringify(guardDutyEvent(i))),
      ...Array.from({ length: 3 }, (_, i) =>
        JSON.stringify(
          guardDutyEvent(100 + i, {
            service: { serviceName: 'guardduty', detectorId: 'd-1', additionalInfo: big },
            resource: {
              resourceType: 'Instance',
              instanceDetails: { instanceId: 'i-0123456789abcdef0' },
              big,
            },
          }),
        ),
      ),
    ];
    expect(bodies.slice(50).every((b) => b.length > 2 * 1_048_576)).toBe(true);
    expect((await guardduty.send(bodies)).batchItemFailures).toEqual([]);
    const rows = rowsOf('AWSGuardDuty');
    expect(rows).toHaveLength(53);
    for (const row of rows) expect(jsonBytes(row)).toBeLessThanOrEqual(MAX_ROW_BYTES);
    const huge = rows.filter((r) => String(r.Id) >= 'f0000000000000000000000000000100');
    expect(huge).toHaveLength(3);
    for (const row of huge) {
      expect(row.ServiceDetails).toMatchObject({ serviceName: 'guardduty', detectorId: 'd-1' });
      expect(row.ResourceDetails).toMatchObject({ instanceDetails: { instanceId: 'i-0123456789abcdef0' } });
    }

    // CloudTrail: many string columns near 64 KB, and control characters that take 6 bytes each as JSON.
    const cloudtrail = forwarder('cloudtrail');
    const control = '\u0001'.repeat(60_000);
    const record = JSON.stringify(
      cloudTrailEvent(7, {
        userAgent: control,
        errorMessage: control,
        errorCode: control,
        sourceIPAddress: control,
        requestParameters: big,
        responseElements: big,
      }),
    );
    expect(record.length).toBeGreaterThan(1_048_576);
    expect((await cloudtrail.send([record, JSON.stringify(cloudTrailEvent(8))])).batchItemFailures).toEqual(
      [],
    );
    const trails = rowsOf('AWSCloudTrail');
    expect(trails.map((r) => r.AwsEventId)).toHaveLength(2);
    for (const row of trails) {
      expect(jsonBytes(row)).toBeLessThanOrEqual(MAX_ROW_BYTES);
      for (const column of ['RequestParameters', 'ResponseElements']) {
        if (row[column] !== undefined) expect(() => JSON.parse(String(row[column]))).not.toThrow();
      }
    }
    expectAcceptedWithinLimits();
  });
});

describe('256 KB SQS messages', () => {
  /** A GuardDuty event padded to exactly `bytes` of UTF-8 with `unit` (1 to 4 bytes each). */
  function padded(n: number, unit: string, overrides: Record<string, unknown> = {}): string {
    const base = JSON.stringify(guardDutyEvent(n, { ...overrides, description: '' }));
    const room = SQS_SOURCE_MESSAGE_BYTES - Buffer.byteLength(base);
    const unitBytes = Buffer.byteLength(unit);
    const text = unit.repeat(Math.floor(room / unitBytes)) + 'x'.repeat(room % unitBytes);
    const body = JSON.stringify(guardDutyEvent(n, { ...overrides, description: text }));
    expect(Buffer.byteLength(body)).toBe(SQS_SOURCE_MESSAGE_BYTES);
    return body;
  }

  it('delivers a batch of messages of the maximum size and dead-letters oversized poison whole', async () => {
    const { send, sqs } = forwarder('guardduty');
    const units = ['x', 'é', '中', '😀'];
    const good = Array.from({ length: 20 }, (_, i) => padded(i, units[i % units.length] ?? 'x'));
    const poison = [padded(50, '😀', { severity: 11 }), padded(51, 'x', { updatedAt: 'soon' })];
    const response = await send([...good, ...poison]);
    expect(response.batchItemFailures).toEqual([]);
    expect(rowsOf('AWSGuardDuty')).toHaveLength(20);
    // 20 rows of ~64 KB: as few requests as 1 MB each allows.
    const sent = server.requests.reduce((sum, r) => sum + r.uncompressedBytes, 0);
    expect(server.requests.length).toBeLessThanOrEqual(Math.ceil(sent / 1_000_000) + 1);
    expectAcceptedWithinLimits();

    const letters = sqs.messages(DLQ);
    expect(letters.map((l) => l.body)).toEqual(poison);
    for (const letter of letters) {
      expect(sqsRefusalOf(letter)).toBeUndefined();
      expect(letter.attributes[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).not.toBe('');
    }
    expect(letters.map((l) => l.attributes[DEAD_LETTER_ATTRIBUTES.field]?.StringValue)).toEqual([
      'severity',
      'updatedAt',
    ]);
  });
});

describe('unicode', () => {
  const text = [
    'Zugriff — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩🏽‍💻🛡️', // astral, ZWJ sequence, variation selector
    'تم رصد استدعاء ‏שלום‎ \u202eevil\u202c', // RTL, marks and an override
    'e\u0301\u0302\u0303 n\u0303', // combining marks
    '\ufeffBOM \u0000 NUL \u001f', // BOM and control characters
    'lone \ud800 high, lone \udfff low, reversed \udc00\ud800', // lone surrogates
  ].join(' | ');

  it('stores every string exactly as sent, lone surrogates included, in plain, dynamic and JSON-text columns', async () => {
    const guardduty = forwarder('guardduty');
    const event = guardDutyEvent(1, {
      title: text,
      description: text.repeat(3),
      resource: {
        resourceType: 'Instance',
        instanceDetails: { instanceId: 'i-0123456789abcdef0', [text]: text },
      },
    });
    const body = JSON.stringify(event);
    // EventBridge and SQS carry such characters as JSON escapes; the body itself is plain text SQS accepts.
    expect(sqsRefusalOf({ body, attributes: {} })).toBeUndefined();
    expect((await guardduty.send([body])).batchItemFailures).toEqual([]);
    const [row] = rowsOf('AWSGuardDuty');
    expect(row?.Title).toBe(text);
    expect(row?.Description).toBe(text.repeat(3));
    expect(row?.ResourceDetails).toEqual((event.detail as Record<string, unknown>).resource);

    const cloudtrail = forwarder('cloudtrail');
    const parameters = { userName: text, [text]: [text, { nested: text }] };
    const record = cloudTrailEvent(1, { userAgent: text, requestParameters: parameters });
    expect((await cloudtrail.send([JSON.stringify(record)])).batchItemFailures).toEqual([]);
    const [trail] = rowsOf('AWSCloudTrail');
    expect(trail?.UserAgent).toBe(text);
    expect(JSON.parse(String(trail?.RequestParameters))).toEqual(parameters);
    expectAcceptedWithinLimits();
  });

  it('dead-letters a poison event with unicode content unchanged, with attributes SQS accepts', async () => {
    const { send, sqs } = forwarder('guardduty');
    const poison = JSON.stringify(guardDutyEvent(2, { title: text, severity: 'high' }));
    expect((await send([poison])).batchItemFailures).toEqual([]);
    const [letter] = sqs.messages(DLQ);
    expect(letter?.body).toBe(poison);
    expect(letter && sqsRefusalOf(letter)).toBeUndefined();
    expect(letter?.attributes[DEAD_LETTER_ATTRIBUTES.field]?.StringValue).toBe('severity');
  });
});

describe('clock skew on TimeGenerated', () => {
  const NOW = Date.parse('2026-12-03T12:00:00.000Z');
  const at = (offsetMs: number): string => new Date(NOW + offsetMs).toISOString();
  const DAY = 24 * 3_600_000;
  const MINUTE = 60_000;
  /** Offsets from now, and whether the service would replace the time (kept: [now - 2 days, now + 1 day]). */
  const TIMES: readonly [string, number, boolean][] = [
    ['3 days old', -3 * DAY, true],
    ['2 days ahead', 2 * DAY, true],
    ['2 days old less a minute', -2 * DAY + MINUTE, false],
    ['2 days and a minute old', -2 * DAY - MINUTE, true],
    ['1 day ahead less a minute', DAY - MINUTE, false],
    ['1 day and a minute ahead', DAY + MINUTE, true],
    ['now', 0, false],
  ];
  const stale = TIMES.filter(([, , replaced]) => replaced).length;

  it('delivers skewed events with their own time and counts the ones the service would restamp', async () => {
    const guardduty = forwarder('guardduty', { now: () => NOW });
    const findings = TIMES.map(([, offset], i) =>
      JSON.stringify(guardDutyEvent(i, { updatedAt: at(offset) })),
    );
    expect((await guardduty.send(findings)).batchItemFailures).toEqual([]);
    const rows = rowsOf('AWSGuardDuty');
    expect(rows.map((r) => r.TimeGenerated).sort()).toEqual(TIMES.map(([, offset]) => at(offset)).sort());
    expect(guardduty.metrics.totals.get('StaleTimestamps')).toBe(stale);

    const cloudtrail = forwarder('cloudtrail', { now: () => NOW });
    const records = TIMES.map(([, offset], i) =>
      JSON.stringify(cloudTrailEvent(i, { eventTime: at(offset) })),
    );
    expect((await cloudtrail.send(records)).batchItemFailures).toEqual([]);
    expect(cloudtrail.metrics.totals.get('StaleTimestamps')).toBe(stale);

    // forwardMessages reports the same count.
    server.reset();
    const report = await forwardMessages(
      'cloudtrail',
      records.map((body, i) => ({ messageId: `m-${i}`, body })),
      { ...cloudtrail.deps },
    );
    expect(report).toMatchObject({ delivered: TIMES.length, staleTimestamps: stale });
  });

  it('counts a stale row only once it is delivered, not while it waits for a retry', async () => {
    const { deps } = forwarder('guardduty', { now: () => NOW });
    const bodies = [JSON.stringify(guardDutyEvent(1, { updatedAt: at(-3 * DAY) }))];
    const messages = bodies.map((body, i) => ({ messageId: `m-${i}`, body }));
    server.injectFaults({ kind: 'server-error' });
    expect(await forwardMessages('guardduty', messages, deps)).toMatchObject({
      retry: 1,
      staleTimestamps: 0,
    });
    expect(await forwardMessages('guardduty', messages, deps)).toMatchObject({
      delivered: 1,
      staleTimestamps: 1,
    });
    expect(rowsOf('AWSGuardDuty')).toHaveLength(1);
  });
});
