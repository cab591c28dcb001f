import * as z from 'zod';
import { eventBridgeEnvelopeSchema } from '../eventbridge.js';
import { firstIssue } from '../schema-helpers.js';

/**
 * The body of an SQS message announcing new S3 objects, in the shapes S3 delivers:
 * - an S3 event notification, `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{...}}]}`
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html), whose object
 *   keys are URL-encoded as `application/x-www-form-urlencoded` ("red flower.jpg" arrives as "red+flower.jpg");
 * - the `s3:TestEvent` message S3 sends when a notification configuration is saved;
 * - either of those inside an SNS notification (`{"Type":"Notification","Message":"<json>"}`); with SNS raw
 *   message delivery the body is the S3 message itself;
 * - an EventBridge event from `aws.s3` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html),
 *   whose `detail.object.key` is not URL-encoded.
 * Events other than object creation (ObjectRemoved, Object Deleted, restores, ...) are counted in `ignored`.
 */

export interface CreatedObject {
  readonly bucket: string;
  /** The object key, decoded: pass it to GetObject as is. */
  readonly key: string;
  readonly size?: number;
  readonly versionId?: string;
  /** Orders events on the same key (compare after right-padding the shorter with zeros). */
  readonly sequencer?: string;
  readonly eventTime?: string;
}

export type ObjectNotifications =
  | {
      readonly ok: true;
      readonly objects: CreatedObject[];
      /** Events in the message that do not create an object. */
      readonly ignored: number;
      /** The message is the `s3:TestEvent` S3 sends when notifications are configured. */
      readonly test?: true;
    }
  | { readonly ok: false; readonly reason: string };

const objectSize = z.number().int().min(0);

/** Fields every S3 event notification record carries; `s3` is read only for ObjectCreated events. */
const s3RecordHeaderSchema = z.looseObject({
  eventVersion: z.string().regex(/^2\.\d+$/, { error: 'expected eventVersion 2.x (major version 2)' }),
  eventSource: z.literal('aws:s3', { error: 'expected "aws:s3"' }),
  eventName: z.string().min(1),
  eventTime: z.string().optional(),
});

const s3EntitySchema = z.looseObject({
  bucket: z.looseObject({ name: z.string().min(1) }),
  object: z.looseObject({
    key: z.string().min(1),
    size: objectSize.optional(),
    versionId: z.string().nullish(),
    sequencer: z.string().optional(),
  }),
});

const s3NotificationSchema = z.looseObject({ Records: z.array(z.unknown()).min(1) });

const s3TestEventSchema = z.looseObject({
  Service: z.literal('Amazon S3'),
  Event: z.literal('s3:TestEvent'),
  Bucket: z.string().optional(),
});

const snsNotificationSchema = z.looseObject({ Type: z.literal('Notification'), Message: z.string() });

const eventBridgeObjectSchema = z.looseObject({
  bucket: z.looseObject({ name: z.string().min(1) }),
  object: z.looseObject({
    key: z.string().min(1),
    size: objectSize.optional(),
    'version-id': z.string().optional(),
    sequencer: z.string().optional(),
  }),
});

/**
 * Decodes a key from an S3 event notification: `+` is a space, then percent-decoding (UTF-8), as for
 * `application/x-www-form-urlencoded`. Undefined when the percent-encoding is malformed.
 */
export function decodeS3EventKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `<where><path>.<field>: <reason>` for the first issue of a zod error. */
function at(where: string, path: string, error: z.ZodError): string {
  const { field, reason } = firstIssue(error);
  const full =
    field === '' ? path : path === '' ? field : `${path}${field.startsWith('[') ? '' : '.'}${field}`;
  return `${where}${full === '' ? '' : `${full}: `}${reason}`;
}

function describeKeys(value: Record<string, unknown>): string {
  const keys = Object.keys(value);
  if (keys.length === 0) return 'an empty object';
  const shown = keys.slice(0, 8).map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k));
  return `keys ${shown.join(', ')}${keys.length > 8 ? ', …' : ''}`;
}

function isCreated(eventName: string): boolean {
  return eventName.startsWith('ObjectCreated:') || eventName.startsWith('s3:ObjectCreated:');
}

function fromS3Notification(value: Record<string, unknown>, where: string): ObjectNotifications {
  const parsed = s3NotificationSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: at(where, '', parsed.error) };
  const objects: CreatedObject[] = [];
  let ignored = 0;
  for (const [i, record] of parsed.data.Records.entries()) {
    const name = `Records[${i}]`;
    const header = s3RecordHeaderSchema.safeParse(record);
    if (!header.success) return { ok: false, reason: at(where, name, header.error) };
    if (!isCreated(header.data.eventName)) {
      ignored++;
      continue;
    }
    const entity = s3EntitySchema.safeParse(isObject(record) ? record.s3 : undefined);
    if (!entity.success) return { ok: false, reason: at(where, `${name}.s3`, entity.error) };
    const { bucket, object } = entity.data;
    const key = decodeS3EventKey(object.key);
    if (key === undefined) {
      return {
        ok: false,
        reason: `${where}${name}.s3.object.key: not valid URL encoding (${JSON.stringify(object.key.slice(0, 80))})`,
      };
    }
    objects.push({
      bucket: bucket.name,
      key,
      ...(object.size === undefined ? {} : { size: object.size }),
      ...(object.versionId == null ? {} : { versionId: object.versionId }),
      ...(object.sequencer === undefined ? {} : { sequencer: object.sequencer }),
      ...(header.data.eventTime === undefined ? {} : { eventTime: header.data.eventTime }),
    });
  }
  return { ok: true, objects, ignored };
}

function fromEventBridge(value: Record<string, unknown>, where: string): ObjectNotifications {
  const envelope = eventBridgeEnvelopeSchema.safeParse(value);
  if (!envelope.success) return { ok: false, reason: at(where, '', envelope.error) };
  const { source, time } = envelope.data;
  const detailType = envelope.data['detail-type'];
  if (source !== 'aws.s3') {
    return {
      ok: false,
      reason: `${where}an EventBridge event from ${JSON.stringify(source ?? null)}, not aws.s3`,
    };
  }
  if (detailType !== 'Object Created') return { ok: true, objects: [], ignored: 1 };
  const detail = eventBridgeObjectSchema.safeParse(envelope.data.detail);
  if (!detail.success) return { ok: false, reason: at(where, 'detail', detail.error) };
  const { bucket, object } = detail.data;
  const versionId = object['version-id'];
  return {
    ok: true,
    ignored: 0,
    objects: [
      {
        bucket: bucket.name,
        key: object.key,
        ...(object.size === undefined ? {} : { size: object.size }),
        ...(versionId === undefined ? {} : { versionId }),
        ...(object.sequencer === undefined ? {} : { sequencer: object.sequencer }),
        ...(time === undefined ? {} : { eventTime: time }),
      },
    ],
  };
}

/** The S3 message itself: a notification, a test event or an EventBridge event. */
function fromS3Message(value: unknown, where: string, insideSns: boolean): ObjectNotifications {
  if (!isObject(value)) {
    const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
    return { ok: false, reason: `${where}${kind}, not an S3 notification object` };
  }
  if ('Records' in value) return fromS3Notification(value, where);
  if ('Event' in value && 'Service' in value) {
    const test = s3TestEventSchema.safeParse(value);
    if (!test.success) return { ok: false, reason: at(where, '', test.error) };
    return { ok: true, objects: [], ignored: 0, test: true };
  }
  if ('detail-type' in value || ('source' in value && 'detail' in value))
    return fromEventBridge(value, where);
  if (typeof value.Type === 'string') {
    if (insideSns) return { ok: false, reason: `${where}an SNS message inside an SNS notification` };
    if (value.Type !== 'Notification') {
      return { ok: false, reason: `an SNS ${value.Type} message, not a Notification carrying an S3 event` };
    }
    const sns = snsNotificationSchema.safeParse(value);
    if (!sns.success) return { ok: false, reason: at('SNS notification: ', '', sns.error) };
    let inner: unknown;
    try {
      inner = JSON.parse(sns.data.Message);
    } catch {
      return { ok: false, reason: 'SNS notification: Message is not JSON' };
    }
    return fromS3Message(inner, 'SNS Message: ', true);
  }
  return {
    ok: false,
    reason: `${where}not an S3 notification (expected Records, an s3:TestEvent, an SNS Notification or an aws.s3 EventBridge event); found ${describeKeys(value)}`,
  };
}

/** Parses the body of an SQS message into the S3 objects it announces as created. */
export function parseObjectNotifications(body: string): ObjectNotifications {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'the message body is not JSON' };
  }
  return fromS3Message(value, '', false);
}
