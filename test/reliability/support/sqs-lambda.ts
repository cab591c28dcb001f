/**
 * An SQS source queue and its Lambda event source mapping, as far as delivery guarantees go, for driving the
 * real forwarder handler the way AWS does:
 *  - a receive takes up to `maxBatchSize` visible messages (at most 10,000) and at most 6 MB of payload, in no
 *    particular order (a standard queue is best-effort ordered: the order is shuffled with a seed);
 *  - `batchItemFailures` return exactly those messages; an invalid identifier, a thrown error or an invocation
 *    that outlives the function timeout returns the whole batch (Lambda kills a timed-out invocation, so the
 *    messages it already delivered come back as well: that is where duplicates come from);
 *  - a message received `maxReceiveCount` times and still not deleted is moved to the DLQ by the redrive policy,
 *    as it is, without the bridge's reason attributes.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../../support/lambda.js';
import type { StoredMessage } from '../../support/sqs-model.js';

/** Lambda's invocation payload limit, which bounds an SQS batch whatever its size setting. */
export const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The largest batch size an SQS event source mapping accepts. */
export const MAX_SQS_BATCH_SIZE = 10_000;

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentTimestamp: number;
  receiveCount: number;
}

export interface DrainOptions {
  /** Batch size of the event source mapping (1 to 10,000); `batchSizes` varies it per invocation. */
  readonly maxBatchSize: number;
  /** Draws the size of each batch (1 to maxBatchSize); default always maxBatchSize. */
  readonly batchSizes?: () => number;
  /** Receives after which the redrive policy moves a message to the DLQ. */
  readonly maxReceiveCount: number;
  /** The function timeout; an invocation running longer is killed and its whole batch comes back. */
  readonly functionTimeoutMs: number;
  /** Invocations running at once. */
  readonly concurrency: number;
  /** Passes over the queue at most (each pass receives every visible message once). */
  readonly maxRounds: number;
  /** Seed for the receive order. */
  readonly seed: number;
}

export interface DrainReport {
  readonly rounds: number;
  readonly invocations: number;
  /** Receives of a message after its first. */
  readonly redeliveries: number;
  /** Invocations whose whole batch came back (timeout, thrown error or invalid batchItemFailures). */
  readonly wholeBatchFailures: number;
  readonly timedOutInvocations: number;
  /** Largest batch an invocation got. */
  readonly largestBatch: number;
}

/** Small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class SourceQueue {
  /** Messages not yet deleted, by id. */
  private readonly pending = new Map<string, QueuedMessage>();
  /** Messages the redrive policy moved to the DLQ (no reason attached). */
  readonly redriven: QueuedMessage[] = [];
  private sent = 0;

  constructor(
    readonly name: string,
    readonly region = 'us-east-1',
    readonly account = '111122223333',
  ) {}

  get arn(): string {
    return `arn:aws:sqs:${this.region}:${this.account}:${this.name}`;
  }

  /** Messages still in the queue (visible or in flight). */
  get depth(): number {
    return this.pending.size;
  }

  /** Enqueues a message and returns its id (SQS message ids are UUIDs, stable across receives). */
  send(body: string): string {
    this.sent += 1;
    const hex = this.sent.toString(16).padStart(12, '0');
    const prefix = [...this.name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7).toString(16);
    const messageId = `${prefix.padStart(8, '0').slice(0, 8)}-0000-4000-8000-${hex}`;
    this.pending.set(messageId, { messageId, body, sentTimestamp: Date.now(), receiveCount: 0 });
    return messageId;
  }

  private record(message: QueuedMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: `${message.messageId}#${message.receiveCount}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentTimestamp),
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(message.sentTimestamp),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: this.region,
    };
  }

  /** Receives, invokes and settles until the queue is empty or `maxRounds` passes are done. */
  async drain(handler: SqsHandler, options: DrainOptions): Promise<DrainReport> {
    if (options.maxBatchSize < 1 || options.maxBatchSize > MAX_SQS_BATCH_SIZE) {
      throw new RangeError(`batch size must be 1 to ${MAX_SQS_BATCH_SIZE}`);
    }
    const random = prng(options.seed);
    let rounds = 0;
    let invocations = 0;
    let redeliveries = 0;
    let wholeBatchFailures = 0;
    let timedOutInvocations = 0;
    let largestBatch = 0;

    while (this.pending.size > 0 && rounds < options.maxRounds) {
      rounds += 1;
      const visible = [...this.pending.values()];
      for (let i = visible.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        const swap = visible[i] as QueuedMessage;
        visible[i] = visible[j] as QueuedMessage;
        visible[j] = swap;
      }
      const batches: QueuedMessage[][] = [];
      let current: QueuedMessage[] = [];
      let bytes = 0;
      let limit = this.drawBatchSize(options);
      for (const message of visible) {
        if (message.receiveCount >= options.maxReceiveCount) {
          this.pending.delete(message.messageId);
          this.redriven.push(message);
          continue;
        }
        const size = Buffer.byteLength(message.body);
        if (current.length > 0 && (current.length >= limit || bytes + size > LAMBDA_PAYLOAD_BYTES)) {
          batches.push(current);
          current = [];
          bytes = 0;
          limit = this.drawBatchSize(options);
        }
        current.push(message);
        bytes += size;
      }
      if (current.length > 0) batches.push(current);

      let next = 0;
      const worker = async (): Promise<void> => {
        for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) {
          for (const message of batch) {
            message.receiveCount += 1;
            if (message.receiveCount > 1) redeliveries += 1;
          }
          invocations += 1;
          largestBatch = Math.max(largestBatch, batch.length);
          const outcome = await this.invoke(handler, batch, options.functionTimeoutMs);
          if (outcome.kind === 'whole-batch') {
            wholeBatchFailures += 1;
            if (outcome.timedOut) timedOutInvocations += 1;
            continue;
          }
          for (const message of batch) {
            if (!outcome.failed.has(message.messageId)) this.pending.delete(message.messageId);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency, batches.length) }, worker));
    }
    return { rounds, invocations, redeliveries, wholeBatchFailures, timedOutInvocations, largestBatch };
  }

  private drawBatchSize(options: DrainOptions): number {
    const drawn = options.batchSizes?.() ?? options.maxBatchSize;
    return Math.max(1, Math.min(options.maxBatchSize, Math.floor(drawn)));
  }

  private async invoke(
    handler: SqsHandler,
    batch: readonly QueuedMessage[],
    timeoutMs: number,
  ): Promise<{ kind: 'partial'; failed: ReadonlySet<string> } | { kind: 'whole-batch'; timedOut: boolean }> {
    const event: SQSEvent = { Records: batch.map((m) => this.record(m)) };
    const started = Date.now();
    let response: SQSBatchResponse;
    try {
      response = await handler(event, lambdaContext(this.name, timeoutMs));
    } catch {
      return { kind: 'whole-batch', timedOut: false };
    }
    if (Date.now() - started > timeoutMs) return { kind: 'whole-batch', timedOut: true };
    const ids = new Set(batch.map((m) => m.messageId));
    const failed = new Set<string>();
    for (const failure of response.batchItemFailures ?? []) {
      const id = failure.itemIdentifier;
      // Lambda treats an empty or unknown identifier as a failure of the whole batch.
      if (typeof id !== 'string' || !ids.has(id)) return { kind: 'whole-batch', timedOut: false };
      failed.add(id);
    }
    return { kind: 'partial', failed };
  }
}

/** Characters SQS accepts in a message body and in String attribute values (the XML 1.0 character set). */
const SQS_FORBIDDEN = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * Why real SQS would refuse this message (the test model stores whatever it is sent): a character outside
 * the XML character set in the body or an attribute, an empty value, or more than 1 MiB in all.
 */
export function sqsRefusalOf(message: StoredMessage): string | undefined {
  if (message.body === '') return 'empty body';
  if (SQS_FORBIDDEN.test(message.body)) return 'the body holds a character SQS refuses';
  let bytes = Buffer.byteLength(message.body);
  for (const [name, value] of Object.entries(message.attributes)) {
    const text = value.StringValue ?? '';
    if (text === '') return `attribute ${name} is empty`;
    if (SQS_FORBIDDEN.test(text))
      return `attribute ${name} holds a character SQS refuses: ${JSON.stringify(text).slice(0, 120)}`;
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(text);
  }
  return bytes > SQS_MAX_MESSAGE_BYTES ? `${bytes} bytes, over 1 MiB` : undefined;
}
