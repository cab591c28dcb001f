/**
 * Property-based fuzzing (fast-check) of everything the bridge reads from outside: EventBridge events, SQS
 * batches, Sentinel incident payloads and HTTP bodies. Each property checks the end state: a valid row or a
 * precise refusal, exactly one outcome per message, a 4xx with a clear message (never a 500) and no side
 * effect when a request is refused.
 *
 * Unhandled rejections: jest-circus (Jest 30) replaces the process's `unhandledRejection` listeners while
 * tests run and fails the test during which a promise was rejected with nobody listening; a listener of our
 * own on the sandbox's `process` is never called, so none is registered here.
 */

import { HttpRequest, type HttpRequestBodyInit, HttpResponse, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createForwarderHandler } from '../../aws-functions/forwarder.js';
import { type Handler, readJson } from '../../azure-functions/http.js';
import { forwardMessages, type QueueMessage } from '../../shared/app/forward.js';
import { extractIncident } from '../../shared/domain/respond/incident.js';
import { isTargetId } from '../../shared/domain/respond/targets.js';
import { jsonBytes, TRUNCATION_MARKER } from '../../shared/domain/rows/limits.js';
import { normaliseItem, type SourceName } from '../../shared/domain/sources.js';
import { AWS_CLOUDTRAIL, AWS_GUARDDUTY } from '../../shared/domain/tables/columns.js';
import type { DeadLetter, DeadLetterPort, DeadLetterReport } from '../../shared/ports/dead-letters.js';
import type { LogsIngestionPort, UploadFailure, UploadReport } from '../../shared/ports/logs-ingestion.js';
import {
  cloudTrailEvent,
  cloudTrailRecord,
  guardDutyEvent,
  guardDutyFinding,
  sqsEvent,
} from '../support/events.js';
import { lambdaContext, quietObservability } from '../support/lambda.js';
import { type RespondHarness, startRespondHarness } from '../support/respond-harness.js';
import {
  type Json,
  jsonText,
  mutate,
  mutation,
  refusalProblems,
  rowProblems,
  unicodeString,
} from './support/hostile.js';

const TABLE = { guardduty: AWS_GUARDDUTY, cloudtrail: AWS_CLOUDTRAIL } as const;
const ID_COLUMN = { guardduty: 'Id', cloudtrail: 'AwsEventId' } as const;

const asJson = (value: Record<string, unknown>): Json => value as Json;
const ENVELOPES: readonly Json[] = [
  asJson(guardDutyEvent(1)),
  asJson(cloudTrailEvent(2)),
  asJson(guardDutyFinding(3)),
  asJson(cloudTrailRecord(4)),
  asJson(
    cloudTrailEvent(5, {
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLE:alice',
        arn: 'arn:aws:sts::111122223333:assumed-role/admin/alice',
        accountId: '111122223333',
        sessionContext: {
          sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/admin', userName: 'admin' },
          attributes: { creationDate: '2026-12-01T09:00:00Z', mfaAuthenticated: 'true' },
        },
        onBehalfOf: {
          userId: 'u-1',
          identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-1',
        },
      },
      additionalEventData: { MFAUsed: 'Yes' },
      resources: [{ ARN: 'arn:aws:iam::111122223333:user/backdoor', type: 'AWS::IAM::User' }],
    }),
  ),
];

const hostileBody: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...ENVELOPES), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([doc, ms]) => mutate(doc, ms)),
  },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: unicodeString },
  { weight: 1, arbitrary: fc.constantFrom(...ENVELOPES).map((doc) => JSON.stringify(doc)) },
);

const prototypeIsClean = (): boolean =>
  !Object.hasOwn(Object.prototype, 'polluted') &&
  ({} as Record<string, unknown>).toString === Object.prototype.toString;

describe('EventBridge events', () => {
  it('makes any mutation of a valid event a row the service stores as it is, or a refusal naming the field', () => {
    fc.assert(
      fc.property(hostileBody, fc.constantFrom<SourceName>('guardduty', 'cloudtrail'), (body, source) => {
        let input: unknown;
        try {
          input = JSON.parse(body);
        } catch {
          return; // Not JSON: forwardMessages refuses it before normalising (next properties).
        }
        let outcome: ReturnType<typeof normaliseItem>;
        try {
          outcome = normaliseItem(source, input);
        } catch (error) {
          // The only exception the contract allows: too deep to serialise (forwardMessages refuses it).
          expect(error).toBeInstanceOf(RangeError);
          return;
        }
        if (outcome.ok) {
          expect(rowProblems(TABLE[source], outcome.row)).toEqual([]);
          const rowId = String(outcome.row[ID_COLUMN[source]]);
          // An id over 64 KB is cut like any value; the outcome (and the DLQ) keep the whole id.
          if (outcome.trimmed.includes(ID_COLUMN[source])) {
            expect(rowId.endsWith(TRUNCATION_MARKER)).toBe(true);
            expect(outcome.id.startsWith(rowId.slice(0, -TRUNCATION_MARKER.length))).toBe(true);
          } else expect(rowId).toBe(outcome.id);
          expect(outcome.id).not.toBe('');
          expect(outcome.bytes).toBe(jsonBytes(outcome.row));
        } else {
          expect(refusalProblems(outcome.field, outcome.reason)).toEqual([]);
        }
        // The input is left as it came (the DLQ and a replay get the original).
        expect(jsonText(input)).toBe(jsonText(JSON.parse(body)));
        expect(prototypeIsClean()).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});

/** A Logs Ingestion API that refuses rows at random (retryable or for good) and records what it stored. */
class ChaoticIngestion implements LogsIngestionPort {
  readonly stored: Record<string, unknown>[] = [];
  constructor(private readonly fail: (index: number) => 'ok' | 'retry' | 'permanent') {}
  async upload(_stream: string, rows: readonly Record<string, unknown>[]): Promise<UploadReport> {
    const failures: UploadFailure[] = [];
    rows.forEach((row, index) => {
      const verdict = this.fail(index);
      if (verdict === 'ok') this.stored.push(row);
      else
        failures.push({
          index,
          permanent: verdict === 'permanent',
          message: verdict === 'permanent' ? 'InvalidLogRecord' : 'TooManyRequests',
          status: verdict === 'permanent' ? 400 : 429,
        });
    });
    return { failures, requests: 1, bytes: 0 };
  }
  async uploadTexts(stream: string, texts: readonly string[]): Promise<UploadReport> {
    return this.upload(
      stream,
      texts.map((text) => JSON.parse(text) as Record<string, unknown>),
    );
  }
}

/** A DLQ that refuses letters at random and keeps the others. */
class ChaoticDeadLetters implements DeadLetterPort {
  readonly letters: DeadLetter[] = [];
  constructor(private readonly refuse: (index: number) => boolean) {}
  async send(letters: readonly DeadLetter[]): Promise<DeadLetterReport> {
    const failed: string[] = [];
    letters.forEach((letter, index) => {
      if (this.refuse(index)) failed.push(letter.messageId);
      else this.letters.push(letter);
    });
    return failed.length > 0 ? { failed, errors: ['KMS.DisabledException'] } : { failed };
  }
}

/** A batch: hostile bodies, valid events with unique ids, and repeats of earlier bodies (at-least-once). */
const batch = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: hostileBody.map((body) => ({ body })) },
      {
        weight: 2,
        arbitrary: fc.nat({ max: 1_000_000 }).map((n) => ({ body: JSON.stringify(guardDutyEvent(n)) })),
      },
      { weight: 1, arbitrary: fc.nat().map((n) => ({ repeat: n })) },
    ),
    { minLength: 1, maxLength: 25 },
  )
  .map((items) => {
    const bodies: string[] = [];
    for (const item of items) {
      if ('body' in item) bodies.push(item.body);
      else bodies.push(bodies.length > 0 ? (bodies[item.repeat % bodies.length] ?? '') : '{}');
    }
    return bodies.map((body, i): QueueMessage => ({ messageId: `m-${i}`, body }));
  });

const verdicts = fc.array(
  fc.constantFrom<'ok' | 'retry' | 'permanent'>('ok', 'ok', 'ok', 'retry', 'permanent'),
  {
    minLength: 1,
    maxLength: 30,
  },
);

describe('SQS batches', () => {
  it('gives every message exactly one outcome that matches what reached the table and the DLQ', async () => {
    await fc.assert(
      fc.asyncProperty(
        batch,
        verdicts,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        async (messages, upload, dlq) => {
          const ingestion = new ChaoticIngestion((i) => upload[i % upload.length] ?? 'ok');
          const deadLetters = new ChaoticDeadLetters((i) => dlq[i % dlq.length] === true);
          const report = await forwardMessages('guardduty', messages, { ingestion, deadLetters });

          expect(report.outcomes.size).toBe(messages.length);
          expect(report.delivered + report.deadLettered + report.retry).toBe(messages.length);
          const statusOfBody = new Map<string, string>();
          const deliveredBodies = new Set<string>();
          for (const message of messages) {
            const outcome = report.outcomes.get(message.messageId);
            if (outcome === undefined) throw new Error(`no outcome for ${message.messageId}`);
            // Copies of one body share one row: delivered all together or not at all (a copy that is not
            // delivered may still differ from another, e.g. one letter accepted by the DLQ and one refused).
            const seen = statusOfBody.get(message.body);
            if (seen !== undefined && (seen === 'delivered' || outcome.status === 'delivered'))
              expect(outcome.status).toBe(seen);
            statusOfBody.set(message.body, outcome.status);
            const letters = deadLetters.letters.filter((l) => l.messageId === message.messageId);
            const normalised = (() => {
              try {
                return normaliseItem('guardduty', JSON.parse(message.body));
              } catch {
                return undefined;
              }
            })();
            if (outcome.status === 'delivered') {
              expect(normalised?.ok).toBe(true);
              expect(letters).toEqual([]);
              deliveredBodies.add(message.body);
            } else if (outcome.status === 'dead-lettered') {
              expect(letters).toHaveLength(1);
              expect(letters[0]?.body).toBe(message.body);
              expect(refusalProblems(outcome.field, outcome.reason)).toEqual([]);
              // Refused by validation, or (valid) refused for good by the API. Near the stack's limit the
              // same deep event may serialise here and overflow there: "too deep" is not a fixed depth.
              if (normalised?.ok === true)
                expect(outcome.reason).toMatch(
                  /^(refused by the Logs Ingestion API|the event is nested too deeply to process$)/,
                );
            } else {
              expect(letters).toEqual([]);
              expect(outcome.reason).not.toBe('');
            }
          }
          // One stored row per distinct delivered body; nothing stored for a message that is not delivered.
          expect(ingestion.stored).toHaveLength(deliveredBodies.size);
          expect(deadLetters.letters).toHaveLength(report.deadLettered);
          expect(prototypeIsClean()).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('returns exactly the messages to retry as batchItemFailures through the real handler', async () => {
    await fc.assert(
      fc.asyncProperty(batch, verdicts, async (messages, upload) => {
        const ingestion = new ChaoticIngestion((i) => upload[i % upload.length] ?? 'ok');
        const deadLetters = new ChaoticDeadLetters(() => false);
        const handler = createForwarderHandler('guardduty', {
          ...quietObservability(),
          ingestion,
          deadLetters,
        });
        const event = sqsEvent(messages.map((m) => m.body));
        const expected = await forwardMessages(
          'guardduty',
          event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
          {
            ingestion: new ChaoticIngestion((i) => upload[i % upload.length] ?? 'ok'),
            deadLetters: new ChaoticDeadLetters(() => false),
          },
        );
        const response = await handler(event, lambdaContext());
        const retried = [...expected.outcomes].filter(([, o]) => o.status === 'retry').map(([id]) => id);
        expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(retried.sort());
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// The Respond side: incident payloads and HTTP bodies through the real handlers over real parts.

let h: RespondHarness;
let responder: string;

beforeAll(async () => {
  h = await startRespondHarness();
  h.reset();
  responder = await h.token(['Responder']);
}, 60_000);

afterAll(async () => {
  await h.close();
});

const FIXTURE = (): Json => h.fixtureEnvelope() as Json;

/** Incident payloads as JSON text: mutations of the fixture (typed fields first), and any JSON at all. */
const hostileIncident: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => mutate(FIXTURE(), ms)),
  },
  { weight: 1, arbitrary: fc.json() },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          'incidentNumber',
          'title',
          'severity',
          'status',
          'labels',
          'alerts',
          'relatedEntities',
        ),
        fc.jsonValue({ maxDepth: 2 }),
        fc.boolean(),
      )
      .map(([key, value, bare]) => {
        const envelope = FIXTURE() as { object: { properties: Record<string, unknown> } };
        envelope.object.properties[key] = value;
        return JSON.stringify(bare ? envelope.object : envelope);
      }),
  },
);

describe('incident payloads', () => {
  it('extracts targets with valid ids from any payload, or refuses it naming the field', () => {
    fc.assert(
      fc.property(hostileIncident, (text) => {
        const payload: unknown = JSON.parse(text);
        const first = extractIncident(payload);
        expect(extractIncident(JSON.parse(text))).toEqual(first);
        // The payload is left as it came.
        expect(jsonText(payload)).toBe(jsonText(JSON.parse(text)));
        expect(prototypeIsClean()).toBe(true);
        if (!first.ok) {
          expect(refusalProblems(first.field, first.reason)).toEqual([]);
          return;
        }
        for (const target of first.value.targets) expect(isTargetId(target.kind, target.id)).toBe(true);
        const keys = first.value.targets.map((t) => `${t.kind}|${t.id}|${t.accountId ?? ''}`);
        expect(new Set(keys).size).toBe(keys.length);
      }),
      { numRuns: 500 },
    );
  });

  it('answers a refused incident with 400 or 422 and a precise message, never 500, and changes nothing', async () => {
    h.reset();
    await fc.assert(
      fc.asyncProperty(hostileIncident, async (text) => {
        const aws = JSON.stringify(h.model.snapshot());
        const calls = h.awsCalls().length;
        const comments = h.comments().length;
        const audit = h.auditRows().length;
        const labels = h.labels();
        const reply = await h.call(h.handlers.incident, {
          path: '/api/incidents',
          token: responder,
          body: text,
        });
        expect([200, 400, 413, 422]).toContain(reply.status);
        if (reply.status === 200) return;
        const error = (reply.body as { error?: { code?: string; message?: string } }).error;
        if (reply.status === 422) {
          const expected = extractIncident(JSON.parse(text));
          if (expected.ok) throw new Error('422 for a payload extractIncident accepts');
          expect(error?.code).toBe('invalid_incident');
          expect(error?.message).toBe(`${expected.field || '(body)'}: ${expected.reason}`);
        } else {
          expect(['invalid_json', 'empty_body', 'body_too_large']).toContain(error?.code);
        }
        expect(JSON.stringify(h.model.snapshot())).toBe(aws);
        expect(h.awsCalls()).toHaveLength(calls);
        expect(h.comments()).toHaveLength(comments);
        expect(h.auditRows()).toHaveLength(audit);
        expect(h.labels()).toEqual(labels);
      }),
      { numRuns: 150 },
    );
  });
});

/**
 * A body as the Functions host hands it over: bytes (a string is UTF-8 encoded, as on the wire; a string
 * body given to `HttpRequest` would also get an automatic `text/plain` content type no real client sent).
 */
const bytesOf = (body: HttpRequestBodyInit): Uint8Array =>
  body.bytes ?? new TextEncoder().encode(body.string ?? '');
/** What `request.text()` reads from those bytes: UTF-8 with replacement characters, a leading BOM dropped. */
const textOf = (body: HttpRequestBodyInit): string => new TextDecoder().decode(bytesOf(body));

const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/problem+json',
  'application/vnd.api+json',
];
const OTHER_TYPES = [
  'text/plain',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'text/json',
  'application/octet-stream',
];

const contentType = fc.oneof(
  fc.constantFrom(...JSON_TYPES),
  fc.constantFrom(...OTHER_TYPES),
  fc.constant(''),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
);

const httpBody: fc.Arbitrary<HttpRequestBodyInit> = fc.oneof(
  fc.string().map((s) => ({ string: s })),
  unicodeString.map((s) => ({ string: s })),
  fc.json().map((s) => ({ string: s })),
  fc.json().map((s) => ({ bytes: new TextEncoder().encode(`\ufeff${s}`) })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ bytes })),
  fc.constantFrom(
    { string: '' },
    { string: ' \n\t ' },
    { string: '{"object": {' },
    { string: 'null' },
    { string: '[]' },
  ),
  fc
    .integer({ min: 4 * 1024 * 1024 - 2, max: 4 * 1024 * 1024 + 2 })
    .map((n) => ({ string: `"${'x'.repeat(n - 2)}"` })),
);

function request(
  body: HttpRequestBodyInit,
  type: string,
  path = '/api/incidents',
  params: Record<string, string> = {},
): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: `https://bridge.example.net${path}`,
    headers: { authorization: `Bearer ${responder}`, ...(type === '' ? {} : { 'content-type': type }) },
    body: { bytes: bytesOf(body) },
    params,
  });
}

async function send(handler: Handler, req: HttpRequest): Promise<{ status: number; body: unknown }> {
  const context = new InvocationContext({
    invocationId: '00000000-0000-4000-8000-000000000001',
    functionName: 'fuzz',
    logHandler: () => undefined,
  });
  const response = new HttpResponse(await handler(req, context));
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

describe('HTTP bodies', () => {
  it('reads any body as JSON or refuses it with 400, 413 or 415 and a stable code', async () => {
    await fc.assert(
      fc.asyncProperty(httpBody, contentType, async (body, type) => {
        const result = await readJson(request(body, type));
        const text = textOf(body);
        const media = type.split(';')[0]?.trim().toLowerCase() ?? '';
        if (result.ok) {
          expect(result.body).toEqual(JSON.parse(text));
          expect(OTHER_TYPES.map((t) => t.split(';')[0])).not.toContain(media);
          return;
        }
        const init = result.response;
        const code = (init.jsonBody as { error: { code: string; message: string } }).error.code;
        const expected: Record<string, number> = {
          unsupported_media_type: 415,
          empty_body: 400,
          body_too_large: 413,
          invalid_json: 400,
        };
        expect(init.status).toBe(expected[code]);
        if (JSON_TYPES.includes(type) || type === '') expect(code).not.toBe('unsupported_media_type');
        if (OTHER_TYPES.includes(type)) expect(code).toBe('unsupported_media_type');
        if (code === 'invalid_json') expect(() => JSON.parse(text)).toThrow();
        if (code === 'empty_body') expect(text.trim()).toBe('');
      }),
      { numRuns: 400 },
    );
  });

  it('never answers 500 to any body on the incident and action routes, and calls AWS only for a valid request', async () => {
    h.reset();
    const routes: readonly { handler: () => Handler; path: string; params: Record<string, string> }[] = [
      { handler: () => h.handlers.incident, path: '/api/incidents', params: {} },
      {
        handler: () => h.handlers.run,
        path: '/api/actions/isolate-ec2-instance',
        params: { name: 'isolate-ec2-instance' },
      },
      {
        handler: () => h.handlers.release,
        path: '/api/actions/deactivate-access-key/release',
        params: { name: 'deactivate-access-key' },
      },
    ];
    await fc.assert(
      fc.asyncProperty(httpBody, contentType, fc.constantFrom(...routes), async (body, type, route) => {
        const calls = h.awsCalls().length;
        const reply = await send(route.handler(), request(body, type, route.path, route.params));
        expect(reply.status).not.toBe(500);
        expect(reply.status).toBeLessThan(500);
        if (reply.status >= 400) expect(h.awsCalls()).toHaveLength(calls);
      }),
      { numRuns: 300 },
    );
  });
});
