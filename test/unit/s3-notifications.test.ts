import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import {
  decodeS3EventKey,
  type ObjectNotifications,
  parseObjectNotifications,
} from '../../shared/domain/s3/notifications.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 's3');

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

function reason(result: ObjectNotifications): string {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
  return result.reason;
}

const BUCKET = 'org-trail-logs-111122223333';
const TRAIL_KEY =
  'AWSLogs/o-aa11bb22cc/111122223333/CloudTrail/eu-west-1/2026/07/22/111122223333_CloudTrail_eu-west-1_20260722T1850Z_p3Xq8LmN2vRt6YwZ.json.gz';

/** A minimal native notification with one record, for refusals. */
function notification(record: Record<string, unknown>): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: BUCKET }, object: { key: 'a.json.gz', size: 1 } },
        ...record,
      },
    ],
  });
}

describe('S3 event notifications', () => {
  it('lists the objects created and counts the other events', () => {
    expect(parseObjectNotifications(fixture('s3-notification-objectcreated.json'))).toEqual({
      ok: true,
      ignored: 1,
      objects: [
        {
          bucket: BUCKET,
          key: TRAIL_KEY,
          size: 48213,
          sequencer: '0062E99A88DC407460',
          eventTime: '2026-07-22T18:50:12.214Z',
        },
        {
          bucket: BUCKET,
          key: 'exports/2026 Q3/red flower (1) café c++.json.gz',
          size: 10485761,
          versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
          sequencer: '0062E99A88DC4074AA',
          eventTime: '2026-07-22T18:51:03.877Z',
        },
      ],
    });
  });

  it('decodes keys as application/x-www-form-urlencoded, like S3 encodes them', () => {
    expect(decodeS3EventKey('red+flower.jpg')).toBe('red flower.jpg');
    expect(decodeS3EventKey('c%2B%2B/a+b%2Bc')).toBe('c++/a b+c');
    expect(decodeS3EventKey('aws-account-id%3D111122223333/year%3D2026/')).toBe(
      'aws-account-id=111122223333/year=2026/',
    );
    expect(decodeS3EventKey('caf%C3%A9/%E6%97%A5%E6%9C%AC/%F0%9F%9A%80')).toBe('café/日本/🚀');
    expect(decodeS3EventKey('100%25+done')).toBe('100% done');
    expect(decodeS3EventKey('bad%E0%A4%A')).toBeUndefined();
    expect(decodeS3EventKey('half%')).toBeUndefined();
  });

  it('takes a null versionId as no version', () => {
    const result = parseObjectNotifications(
      notification({ s3: { bucket: { name: BUCKET }, object: { key: 'a', size: 3, versionId: null } } }),
    );
    expect(result).toEqual({ ok: true, ignored: 0, objects: [{ bucket: BUCKET, key: 'a', size: 3 }] });
  });

  it('accepts later minor versions of the event structure', () => {
    expect(parseObjectNotifications(notification({ eventVersion: '2.6' }))).toMatchObject({ ok: true });
  });

  it('answers the s3:TestEvent with no objects', () => {
    expect(parseObjectNotifications(fixture('s3-test-event.json'))).toEqual({
      ok: true,
      objects: [],
      ignored: 0,
      test: true,
    });
  });

  it('unwraps an SNS notification, for object events and for the test event', () => {
    expect(parseObjectNotifications(fixture('sns-s3-notification.json'))).toEqual({
      ok: true,
      ignored: 0,
      objects: [
        {
          bucket: BUCKET,
          key: 'AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=07/day=22/111122223333_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f67890_20260722T1850Z_9f8e7d6c.log.gz',
          size: 1532,
          sequencer: '0062E99A88DC4074CC',
          eventTime: '2026-07-22T18:50:12.214Z',
        },
      ],
    });
    expect(parseObjectNotifications(fixture('sns-s3-test-event.json'))).toEqual({
      ok: true,
      objects: [],
      ignored: 0,
      test: true,
    });
  });

  it('reads an EventBridge Object Created event without decoding its key', () => {
    expect(parseObjectNotifications(fixture('eventbridge-object-created.json'))).toEqual({
      ok: true,
      ignored: 0,
      objects: [
        {
          bucket: BUCKET,
          key: 'exports/2026 Q3/red flower (1) café c++.json.gz',
          size: 10485761,
          versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
          sequencer: '0062E99A88DC4074DD',
          eventTime: '2026-07-22T18:50:12Z',
        },
      ],
    });
  });

  it('ignores EventBridge events other than Object Created', () => {
    expect(parseObjectNotifications(fixture('eventbridge-object-deleted.json'))).toEqual({
      ok: true,
      objects: [],
      ignored: 1,
    });
  });

  it('reads an EventBridge event delivered through SNS', () => {
    const event = fixture('eventbridge-object-created.json');
    const sns = JSON.stringify({ Type: 'Notification', MessageId: 'm-1', Message: event });
    expect(parseObjectNotifications(sns)).toEqual(parseObjectNotifications(event));
  });
});

describe('S3 event notification refusals', () => {
  it('refuses a body that is not JSON or not an object', () => {
    expect(reason(parseObjectNotifications('{"Records": ['))).toBe('the message body is not JSON');
    expect(reason(parseObjectNotifications('[1]'))).toContain('an array');
    expect(reason(parseObjectNotifications('null'))).toContain('null');
  });

  it('refuses unknown shapes, naming the keys it found', () => {
    const continuation = JSON.stringify({
      kind: 'continue',
      bucket: BUCKET,
      key: TRAIL_KEY,
      resume: { offset: 10 },
    });
    const text = reason(parseObjectNotifications(continuation));
    expect(text).toContain('not an S3 notification');
    expect(text).toContain('"kind", "bucket", "key", "resume"');
  });

  it('refuses an SNS message that is not a notification', () => {
    const text = reason(parseObjectNotifications(fixture('sns-subscription-confirmation.json')));
    expect(text).toContain('SubscriptionConfirmation');
  });

  it('refuses an SNS notification whose Message is not JSON or not an S3 message', () => {
    expect(reason(parseObjectNotifications(JSON.stringify({ Type: 'Notification', Message: 'hello' })))).toBe(
      'SNS notification: Message is not JSON',
    );
    expect(reason(parseObjectNotifications(JSON.stringify({ Type: 'Notification', Message: 42 })))).toContain(
      'SNS notification: Message',
    );
    const nested = JSON.stringify({
      Type: 'Notification',
      Message: JSON.stringify({ Type: 'Notification', Message: '{}' }),
    });
    expect(reason(parseObjectNotifications(nested))).toContain('inside an SNS notification');
  });

  it('names the field of a record that is wrong', () => {
    expect(reason(parseObjectNotifications(notification({ eventSource: 'aws:sqs' })))).toMatch(
      /^Records\[0\]\.eventSource: /,
    );
    expect(reason(parseObjectNotifications(notification({ eventVersion: '3.0' })))).toBe(
      'Records[0].eventVersion: expected eventVersion 2.x (major version 2)',
    );
    expect(
      reason(
        parseObjectNotifications(notification({ s3: { bucket: { name: BUCKET }, object: { size: 1 } } })),
      ),
    ).toMatch(/^Records\[0\]\.s3\.object\.key: /);
    expect(
      reason(
        parseObjectNotifications(
          notification({ s3: { bucket: { name: BUCKET }, object: { key: 'a', size: -1 } } }),
        ),
      ),
    ).toMatch(/^Records\[0\]\.s3\.object\.size: /);
    expect(reason(parseObjectNotifications(JSON.stringify({ Records: [] })))).toMatch(/^Records: /);
  });

  it('refuses a key that is not valid URL encoding', () => {
    expect(
      reason(
        parseObjectNotifications(
          notification({ s3: { bucket: { name: BUCKET }, object: { key: 'a%E0%A4%A' } } }),
        ),
      ),
    ).toContain('Records[0].s3.object.key: not valid URL encoding');
  });

  it('refuses CloudTrail records sent as if they were S3 notifications', () => {
    const trail = JSON.stringify({
      Records: [{ eventVersion: '1.08', eventSource: 's3.amazonaws.com', eventName: 'PutObject' }],
    });
    expect(reason(parseObjectNotifications(trail))).toMatch(/^Records\[0\]\.eventVersion: /);
  });

  it('refuses EventBridge events from other sources and Object Created events without an object', () => {
    const ec2 = JSON.stringify({
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      detail: {},
    });
    expect(reason(parseObjectNotifications(ec2))).toBe('an EventBridge event from "aws.ec2", not aws.s3');
    const broken = JSON.stringify({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: BUCKET } },
    });
    expect(reason(parseObjectNotifications(broken))).toMatch(/^detail\.object: /);
  });
});
