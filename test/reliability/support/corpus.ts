/**
 * The events of the fault-injection run: realistic GuardDuty findings and CloudTrail IAM changes (varied
 * severities, sizes and text), a small share of poison messages of every kind the forwarder refuses, and a
 * few valid events whose rows the Logs Ingestion API refuses (`rejectRowsWhere`), each with the outcome the
 * bridge owes it.
 */
import type { SourceName } from '../../../shared/domain/sources.js';
import { cloudTrailEvent, guardDutyEvent } from '../../support/events.js';
import { prng } from './sqs-lambda.js';

/** Title / event name of the rows the local API is told to refuse with 400 InvalidLogRecord. */
export const REFUSED_MARKER = 'RefusedByTheDataCollectionRule';

export type Expectation =
  | { readonly outcome: 'delivered' }
  /** Refused by the forwarder's validation: in the DLQ with this field attribute and a reason matching. */
  | { readonly outcome: 'dead-lettered'; readonly field: string; readonly reason: RegExp }
  /** Refused by the Logs Ingestion API for its content: isolated by bisection, then in the DLQ. */
  | { readonly outcome: 'refused-by-api'; readonly reason: RegExp };

export interface PlannedEvent {
  readonly source: SourceName;
  readonly body: string;
  /** Finding id / CloudTrail event id of a valid event (the row's `Id` / `AwsEventId`). */
  readonly itemId?: string;
  readonly expect: Expectation;
}

const TEXTS = [
  'EC2 instance is querying a domain name associated with a known command and control server.',
  'Zugriff über Tor-Ausgangsknoten erkannt — Schlüssel wurde von 198.51.100.23 verwendet.',
  'تم رصد استدعاء واجهة برمجة من عنوان غير معتاد', // RTL
  'e\u0301\u0302\u0303 combining marks and emoji 🛡️🔑👩🏽‍💻 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '日本語の説明：不審な API 呼び出し',
];

function deepNesting(depth: number): string {
  return `${'{"d":'.repeat(depth)}"leaf"${'}'.repeat(depth)}`;
}

interface PoisonKind {
  readonly source: SourceName;
  readonly make: (n: number) => string;
  readonly field: string;
  readonly reason: RegExp;
}

const POISON: readonly PoisonKind[] = [
  {
    source: 'guardduty',
    make: (n) => `{"detail-type":"GuardDuty Finding","detail":{"id":"broken-${n}"`,
    field: '(item)',
    reason: /^message body is not JSON$/,
  },
  {
    source: 'guardduty',
    make: (n) => JSON.stringify(cloudTrailEvent(n)),
    field: 'detail-type',
    reason: /^expected "GuardDuty Finding" for source guardduty, got "AWS API Call via CloudTrail"$/,
  },
  {
    source: 'guardduty',
    make: (n) => JSON.stringify(guardDutyEvent(n, { severity: 11 })),
    field: 'severity',
    reason: /10/,
  },
  {
    source: 'guardduty',
    make: (n) => JSON.stringify(guardDutyEvent(n, { updatedAt: 'yesterday' })),
    field: 'updatedAt',
    reason: /ISO 8601/,
  },
  {
    source: 'guardduty',
    make: (n) => {
      const event = guardDutyEvent(n);
      const { id: _id, ...detail } = event.detail as Record<string, unknown>;
      return JSON.stringify({ ...event, detail });
    },
    field: 'id',
    reason: /.+/,
  },
  {
    source: 'guardduty',
    make: (n) =>
      JSON.stringify(guardDutyEvent(n)).replace(
        '"additionalInfo":{}',
        `"additionalInfo":${deepNesting(5000)}`,
      ),
    field: '(item)',
    reason: /^the event is nested too deeply to process$/,
  },
  {
    source: 'guardduty',
    make: (n) => JSON.stringify({ ...guardDutyEvent(n), detail: null }),
    field: 'detail',
    reason: /^expected a JSON object, got null$/,
  },
  {
    source: 'cloudtrail',
    make: (n) => JSON.stringify(cloudTrailEvent(n, { readOnly: 'maybe' })),
    field: 'readOnly',
    reason: /true or false/,
  },
  {
    source: 'cloudtrail',
    make: (n) => {
      const event = cloudTrailEvent(n);
      const { eventTime: _time, ...detail } = event.detail as Record<string, unknown>;
      return JSON.stringify({ ...event, detail });
    },
    field: 'eventTime',
    reason: /.+/,
  },
  {
    source: 'cloudtrail',
    make: (n) => JSON.stringify(cloudTrailEvent(n, { eventName: 42 })),
    field: 'eventName',
    reason: /string/,
  },
  {
    source: 'cloudtrail',
    // SQS refuses empty bodies; blank is the closest a queue can hold.
    make: () => ' ',
    field: '(item)',
    reason: /^message body is not JSON$/,
  },
];

/** The share of poison messages. */
export const POISON_SHARE = 0.005;

/**
 * `total` events, 75 % GuardDuty and 25 % CloudTrail, shuffled: `total * POISON_SHARE` poison messages of
 * every kind, one refused-by-the-API event per 20,000 (at least 2), the rest valid.
 */
export function buildCorpus(total: number, seed: number): PlannedEvent[] {
  const random = prng(seed);
  const poisonCount = Math.max(POISON.length, Math.round(total * POISON_SHARE));
  const refusedCount = Math.max(2, Math.round(total / 20_000));
  const events: PlannedEvent[] = [];
  for (let i = 0; i < poisonCount; i++) {
    const kind = POISON[i % POISON.length] as PoisonKind;
    // Ids far above the valid ones, so a poison event never shares an id with a valid one.
    events.push({
      source: kind.source,
      body: kind.make(10_000_000 + i),
      expect: { outcome: 'dead-lettered', field: kind.field, reason: kind.reason },
    });
  }
  for (let i = 0; i < refusedCount; i++) {
    const n = 20_000_000 + i;
    const reason = /^refused by the Logs Ingestion API \(HTTP 400\): /;
    if (i % 2 === 0) {
      const event = guardDutyEvent(n, { title: REFUSED_MARKER });
      events.push({
        source: 'guardduty',
        body: JSON.stringify(event),
        itemId: String((event.detail as Record<string, unknown>).id),
        expect: { outcome: 'refused-by-api', reason },
      });
    } else {
      const event = cloudTrailEvent(n, { eventName: REFUSED_MARKER });
      events.push({
        source: 'cloudtrail',
        body: JSON.stringify(event),
        itemId: String((event.detail as Record<string, unknown>).eventID),
        expect: { outcome: 'refused-by-api', reason },
      });
    }
  }
  const valid = total - events.length;
  for (let n = 0; n < valid; n++) {
    const text = TEXTS[Math.floor(random() * TEXTS.length)] ?? '';
    // Most rows are ~1.5 KB; one in ten carries a long description (up to ~20 KB), so requests vary in rows.
    const long = random() < 0.1 ? ` ${text.repeat(1 + Math.floor(random() * 200))}` : '';
    if (random() < 0.75) {
      const event = guardDutyEvent(n, {
        severity: Math.round(random() * 1000) / 100,
        description: `${text}${long}`,
      });
      events.push({
        source: 'guardduty',
        body: JSON.stringify(event),
        itemId: String((event.detail as Record<string, unknown>).id),
        expect: { outcome: 'delivered' },
      });
    } else {
      const event = cloudTrailEvent(n, {
        errorMessage: long === '' ? undefined : long,
        readOnly: random() < 0.5 ? 'false' : false,
      });
      events.push({
        source: 'cloudtrail',
        body: JSON.stringify(event),
        itemId: String((event.detail as Record<string, unknown>).eventID),
        expect: { outcome: 'delivered' },
      });
    }
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = events[i] as PlannedEvent;
    events[i] = events[j] as PlannedEvent;
    events[j] = swap;
  }
  return events;
}
