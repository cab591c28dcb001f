import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';

export interface StoredMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, MessageAttributeValue>>;
}

/**
 * A small stateful model of SQS queues behind the real SQSClient (aws-sdk-client-mock): SendMessageBatch
 * validates like SQS (1-10 entries, unique ids, 256 KB per batch, non-empty bodies) and stores messages per
 * queue URL, so tests assert what ended up in the queue rather than which calls were made.
 */
export class SqsModel {
  readonly client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  readonly queues = new Map<string, StoredMessage[]>();
  /** Entry ids (per call) that SQS should report as failed, e.g. to model throttling of single entries. */
  failEntries: (body: string) => boolean = () => false;
  /** When true, the whole SendMessageBatch call fails (a network error or throttling of the API). */
  failCalls = false;
  calls = 0;

  constructor() {
    const mock = mockClient(this.client);
    mock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      this.calls++;
      if (this.failCalls) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      const entries = input.Entries ?? [];
      if (entries.length === 0 || entries.length > 10)
        throw Object.assign(new Error('TooManyEntriesInBatchRequest'), {
          name: 'TooManyEntriesInBatchRequest',
        });
      if (new Set(entries.map((e) => e.Id)).size !== entries.length)
        throw Object.assign(new Error('BatchEntryIdsNotDistinct'), { name: 'BatchEntryIdsNotDistinct' });
      const total = entries.reduce(
        (sum, e) => sum + Buffer.byteLength(e.MessageBody ?? '') + attributeBytes(e.MessageAttributes),
        0,
      );
      if (total > 256 * 1024)
        throw Object.assign(new Error('BatchRequestTooLong'), { name: 'BatchRequestTooLong' });
      const queue = this.queues.get(input.QueueUrl ?? '') ?? [];
      const successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[] = [];
      const failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
      for (const entry of entries) {
        const body = entry.MessageBody ?? '';
        if (body === '' || this.failEntries(body)) {
          failed.push({
            Id: entry.Id ?? '',
            SenderFault: body === '',
            Code: body === '' ? 'InvalidParameterValue' : 'InternalError',
            Message: 'refused',
          });
          continue;
        }
        queue.push({ body, attributes: entry.MessageAttributes ?? {} });
        successful.push({ Id: entry.Id ?? '', MessageId: `sqs-${queue.length}`, MD5OfMessageBody: '' });
      }
      this.queues.set(input.QueueUrl ?? '', queue);
      return { Successful: successful, Failed: failed };
    });
    mock
      .on(SendMessageCommand)
      .rejects(new Error('the forwarder batches dead letters; SendMessage is not expected'));
  }

  messages(queueUrl: string): StoredMessage[] {
    return this.queues.get(queueUrl) ?? [];
  }
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
