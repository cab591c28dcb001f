import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ContinuationPort } from '../../ports/log-objects.js';

/** Continuation messages to the function's own notification queue. */
export function createSqsContinuations(client: SQSClient, queueUrl: string): ContinuationPort {
  return {
    async send(body, signal) {
      await client.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }),
        signal ? { abortSignal: signal } : {},
      );
    },
  };
}
