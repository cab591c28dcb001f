import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';

export interface StoredMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
}

/** SQS limits since 2025: 1 MiB per message (the DLQs' MaximumMessageSize) and per SendMessageBatch request. */
export const SQS_MAX_MESSAGE_BYTES = 1024 * 1024;
export const SQS_MAX_BATCH_BYTES = 1024 * 1024;

const named = (name: string, message = name): Error => Object.assign(new Error(message), { name });

/**
 * A small stateful model of SQS queues behind the real SQSClient (aws-sdk-client-mock): SendMessageBatch
 * validates like SQS (1-10 entries, unique ids, 1 MiB per message and per batch, non-empty bodies) and stores
 * messages per queue URL, so tests assert what ended up in the queue rather than which calls were made.
 *
 * The `abortSignal` given to `client.send` is honoured as the SDK's HTTP handler does: an aborted call
 * rejects with `AbortError` and stores nothing. `hangCall` models a request that never gets an answer (a
 * black-holed connection); only an abort ends it.
 */
export class SqsModel {
  readonly client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  readonly queues = new Map<string, StoredMessage[]>();
  /** Entries SQS should report as failed (code InternalError), e.g. to model throttling of single entries. */
  failEntries: (body: string) => boolean = () => false;
  /** When true, the whole SendMessageBatch call fails (a network error or throttling of the API). */
  failCalls = false;
  /** The error name a failing call rejects with (AccessDenied, KMS.DisabledException, ...). */
  callError = 'TimeoutError';
  /** Calls (numbered from 1) that hang until aborted. */
  hangCall: (call: number) => boolean = () => false;
  /** When false, a hanging call ignores the abort signal too (as a step the SDK does not interrupt would). */
  honourAbort = true;
  calls = 0;
  /** The abort signal each call was given (undefined when none). */
  readonly signals: (AbortSignal | undefined)[] = [];

  constructor() {
    const mock = mockClient(this.client);
    mock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      // sinon records a call's arguments before running the fake, so the last ones are this call's options.
      const args: readonly unknown[] = mock.send.args.at(-1) ?? [];
      const signal = abortSignalOf(args[1]);
      this.calls++;
      this.signals.push(signal);
      const call = this.calls;
      if (signal?.aborted) return Promise.reject(abortError());
      if (this.hangCall(call)) {
        return new Promise<never>((_resolve, reject) => {
          if (this.honourAbort) signal?.addEventListener('abort', () => reject(abortError()), { once: true });
        });
      }
      return this.sendBatch(input);
    });
    mock
      .on(SendMessageCommand)
      .rejects(new Error('the forwarder batches dead letters; SendMessage is not expected'));
  }

  messages(queueUrl: string): StoredMessage[] {
    return this.queues.get(queueUrl) ?? [];
  }

  private async sendBatch(input: SendMessageBatchCommandInput): Promise<SendMessageBatchCommandOutput> {
    if (this.failCalls) throw named(this.callError, 'socket hang up');
    const entries = input.Entries ?? [];
    if (entries.length === 0) throw named('EmptyBatchRequest');
    if (entries.length > 10) throw named('TooManyEntriesInBatchRequest');
    if (new Set(entries.map((e) => e.Id)).size !== entries.length) throw named('BatchEntryIdsNotDistinct');
    const sizes = entries.map(
      (e) => Buffer.byteLength(e.MessageBody ?? '') + attributeBytes(e.MessageAttributes),
    );
    if (sizes.reduce((sum, size) => sum + size, 0) > SQS_MAX_BATCH_BYTES) throw named('BatchRequestTooLong');
    const queue = this.queues.get(input.QueueUrl ?? '') ?? [];
    const successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[] = [];
    const failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    entries.forEach((entry, index) => {
      const body = entry.MessageBody ?? '';
      const senderFault = body === '' || (sizes[index] ?? 0) > SQS_MAX_MESSAGE_BYTES;
      if (senderFault || this.failEntries(body)) {
        failed.push({
          Id: entry.Id ?? '',
          SenderFault: senderFault,
          Code: senderFault ? 'InvalidParameterValue' : 'InternalError',
          Message: 'refused',
        });
        return;
      }
      queue.push({ body, attributes: entry.MessageAttributes ?? {} });
      successful.push({ Id: entry.Id ?? '', MessageId: `sqs-${queue.length}`, MD5OfMessageBody: '' });
    });
    this.queues.set(input.QueueUrl ?? '', queue);
    return { Successful: successful, Failed: failed, $metadata: {} };
  }
}

function abortSignalOf(options: unknown): AbortSignal | undefined {
  if (typeof options !== 'object' || options === null || !('abortSignal' in options)) return undefined;
  const signal = options.abortSignal;
  return signal instanceof AbortSignal ? signal : undefined;
}

/** What the SDK's HTTP handler rejects with when the request's signal aborts. */
function abortError(): Error {
  return named('AbortError', 'Request aborted');
}

function attributeBytes(attrs: Record<string, MessageAttributeValue> | undefined): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attrs ?? {})) {
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}
