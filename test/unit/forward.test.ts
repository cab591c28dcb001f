import { describe, expect, it } from '@jest/globals';
import { forwardMessages, type QueueMessage } from '../../shared/app/forward.js';
import { cloudTrailEvent, guardDutyEvent } from '../support/events.js';
import { InMemoryDeadLetters, InMemoryIngestion } from '../support/fakes.js';

const messages = (bodies: string[]): QueueMessage[] =>
  bodies.map((body, i) => ({ messageId: `m${i}`, body }));
const gd = (n: number, overrides: Record<string, unknown> = {}): string =>
  JSON.stringify(guardDutyEvent(n, overrides));

describe('forwarding a batch', () => {
  it('delivers every valid event as one row of its table in one upload', async () => {
    const ingestion = new InMemoryIngestion();
    const deadLetters = new InMemoryDeadLetters();
    const report = await forwardMessages('guardduty', messages([gd(1), gd(2), gd(3)]), {
      ingestion,
      deadLetters,
    });
    expect(report).toMatchObject({ received: 3, delivered: 3, deadLettered: 0, retry: 0 });
    expect(ingestion.calls).toBe(1);
    expect(ingestion.rows('Custom-AWSGuardDuty').map((r) => r.Id)).toEqual([
      'f0000000000000000000000000000001',
      'f0000000000000000000000000000002',
      'f0000000000000000000000000000003',
    ]);
    expect(deadLetters.letters).toEqual([]);
  });

  it('sends poison messages to the dead-letter queue with the field and reason, and delivers the rest', async () => {
    const ingestion = new InMemoryIngestion();
    const deadLetters = new InMemoryDeadLetters();
    const bodies = [gd(1), 'not json', gd(2, { severity: 'high' }), gd(3)];
    const report = await forwardMessages('guardduty', messages(bodies), { ingestion, deadLetters });
    expect(report).toMatchObject({ delivered: 2, deadLettered: 2, retry: 0 });
    expect(deadLetters.letters.map(({ messageId, field, itemId }) => ({ messageId, field, itemId }))).toEqual(
      [
        { messageId: 'm1', field: '', itemId: undefined },
        { messageId: 'm2', field: 'severity', itemId: 'f0000000000000000000000000000002' },
      ],
    );
    expect(deadLetters.letters[1]?.body).toBe(bodies[2]);
    expect(deadLetters.letters[1]?.reason).toMatch(/number/);
    expect(report.outcomes.get('m2')).toMatchObject({ status: 'dead-lettered', field: 'severity' });
  });

  it('returns exactly the rows the API refused for retry', async () => {
    const ingestion = new InMemoryIngestion();
    ingestion.failWhen = (_row, index) =>
      index % 2 === 1 ? { message: '429 throttled', status: 429, permanent: false } : undefined;
    const deadLetters = new InMemoryDeadLetters();
    const report = await forwardMessages('guardduty', messages([0, 1, 2, 3, 4].map((n) => gd(n))), {
      ingestion,
      deadLetters,
    });
    const retried = [...report.outcomes].filter(([, o]) => o.status === 'retry').map(([id]) => id);
    expect(retried).toEqual(['m1', 'm3']);
    expect(ingestion.rows('Custom-AWSGuardDuty')).toHaveLength(3);
  });

  it('dead-letters a row the API refuses permanently instead of retrying it forever', async () => {
    const ingestion = new InMemoryIngestion();
    ingestion.failWhen = (row) =>
      row.Id === 'f0000000000000000000000000000002'
        ? { message: 'ContentLengthLimitExceeded', status: 413, permanent: true }
        : undefined;
    const deadLetters = new InMemoryDeadLetters();
    const report = await forwardMessages('guardduty', messages([gd(1), gd(2)]), { ingestion, deadLetters });
    expect(report.outcomes.get('m0')?.status).toBe('delivered');
    expect(report.outcomes.get('m1')?.status).toBe('dead-lettered');
    expect(deadLetters.letters[0]?.reason).toMatch(/HTTP 413/);
  });

  it('returns a poison message to the queue when the dead-letter queue refuses it, so nothing is dropped', async () => {
    const deadLetters = new InMemoryDeadLetters();
    deadLetters.refuse = () => true;
    const report = await forwardMessages('guardduty', messages(['{}']), {
      ingestion: new InMemoryIngestion(),
      deadLetters,
    });
    expect(report.outcomes.get('m0')).toMatchObject({ status: 'retry' });
    expect(report.retry).toBe(1);
  });

  it('uploads a finding update delivered twice in one batch once and settles both messages', async () => {
    const ingestion = new InMemoryIngestion();
    const report = await forwardMessages('guardduty', messages([gd(7), gd(7), gd(8)]), {
      ingestion,
      deadLetters: new InMemoryDeadLetters(),
    });
    expect(ingestion.rows('Custom-AWSGuardDuty')).toHaveLength(2);
    expect(report).toMatchObject({ delivered: 3, duplicatesInBatch: 1 });
  });

  it('keeps two updates of the same finding as two rows', async () => {
    const ingestion = new InMemoryIngestion();
    await forwardMessages('guardduty', messages([gd(7), gd(7, { updatedAt: '2026-12-01T16:06:00.000Z' })]), {
      ingestion,
      deadLetters: new InMemoryDeadLetters(),
    });
    expect(ingestion.rows('Custom-AWSGuardDuty').map((r) => r.TimeGenerated)).toEqual([
      '2026-12-01T10:06:00.000Z',
      '2026-12-01T16:06:00.000Z',
    ]);
  });

  it('refuses a CloudTrail event on the GuardDuty queue by its detail-type', async () => {
    const deadLetters = new InMemoryDeadLetters();
    await forwardMessages('guardduty', messages([JSON.stringify(cloudTrailEvent(1))]), {
      ingestion: new InMemoryIngestion(),
      deadLetters,
    });
    expect(deadLetters.letters[0]).toMatchObject({ field: 'detail-type', source: 'guardduty' });
  });

  it('accounts for every message exactly once', async () => {
    const ingestion = new InMemoryIngestion();
    ingestion.failWhen = (_r, i) => (i === 0 ? { message: 'boom', permanent: false } : undefined);
    const bodies = [gd(1), 'x', gd(2), gd(2), JSON.stringify(cloudTrailEvent(3))];
    const report = await forwardMessages('guardduty', messages(bodies), {
      ingestion,
      deadLetters: new InMemoryDeadLetters(),
    });
    expect(report.outcomes.size).toBe(bodies.length);
    expect(report.delivered + report.deadLettered + report.retry).toBe(bodies.length);
  });
});

describe('duplicates within a batch', () => {
  it('never merges two different events that share an id and a time', async () => {
    const ingestion = new InMemoryIngestion();
    const a = JSON.stringify(cloudTrailEvent(1, { eventID: '1111', eventName: 'CreateUser' }));
    const b = JSON.stringify(cloudTrailEvent(1, { eventID: '1111', eventName: 'DeleteUser' }));
    await forwardMessages('cloudtrail', messages([a, b, a]), {
      ingestion,
      deadLetters: new InMemoryDeadLetters(),
    });
    expect(ingestion.rows('Custom-AWSCloudTrail').map((r) => r.EventName)).toEqual([
      'CreateUser',
      'DeleteUser',
    ]);
  });
});

describe('hostile input', () => {
  it('dead-letters a message nested too deeply to process and delivers the rest of the batch', async () => {
    let deep = '"leaf"';
    for (let i = 0; i < 5000; i++) deep = `{"d":${deep}}`;
    const poison = JSON.stringify(guardDutyEvent(9)).replace(
      '"additionalInfo":{}',
      `"additionalInfo":${deep}`,
    );
    const ingestion = new InMemoryIngestion();
    const deadLetters = new InMemoryDeadLetters();
    const report = await forwardMessages('guardduty', messages([gd(1), poison, gd(2)]), {
      ingestion,
      deadLetters,
    });
    expect(report).toMatchObject({ delivered: 2, deadLettered: 1, retry: 0 });
    expect(deadLetters.letters[0]?.reason).toMatch(/nested too deeply/);
  });

  it('gives every message exactly one outcome, whatever its body', async () => {
    const fc = await import('fast-check');
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.json(),
            fc.jsonValue().map((detail) => JSON.stringify({ 'detail-type': 'GuardDuty Finding', detail })),
            fc.constantFrom(gd(1), gd(2), '{"__proto__":{"polluted":true}}', '[]', 'null'),
          ),
          { maxLength: 30 },
        ),
        async (bodies) => {
          const report = await forwardMessages('guardduty', messages(bodies), {
            ingestion: new InMemoryIngestion(),
            deadLetters: new InMemoryDeadLetters(),
          });
          expect(report.outcomes.size).toBe(bodies.length);
          expect(report.delivered + report.deadLettered + report.retry).toBe(bodies.length);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('timestamps the service would replace', () => {
  it('counts delivered rows older than 2 days or more than 1 day ahead', async () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    const report = await forwardMessages(
      'guardduty',
      messages([
        gd(1, { updatedAt: '2026-12-03T11:00:00Z' }),
        gd(2, { updatedAt: '2026-11-30T11:00:00Z' }),
        gd(3, { updatedAt: '2026-12-05T11:00:00Z' }),
      ]),
      { ingestion: new InMemoryIngestion(), deadLetters: new InMemoryDeadLetters(), now: () => now },
    );
    expect(report).toMatchObject({ delivered: 3, staleTimestamps: 2 });
  });
});
