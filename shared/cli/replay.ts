import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent } from 'aws-lambda';
import { createForwarderHandler } from '../../aws-functions/forwarder.js';
import type { SourceName } from '../domain/sources.js';
import { MemoryDeadLetters } from '../local/memory-dead-letters.js';
import type { LogsIngestionPort } from '../ports/logs-ingestion.js';

export interface ReplayOptions {
  readonly ingestion: LogsIngestionPort;
  /** Messages per SQS batch handed to the handler (the production event source mapping uses up to 1,000). */
  readonly batchSize?: number;
  /** Rounds of redelivery for messages the handler returns, as SQS would do after the visibility timeout. */
  readonly maxRounds?: number;
}

export interface ReplayReport {
  readonly source: SourceName;
  readonly sent: number;
  readonly delivered: number;
  readonly refused: readonly {
    readonly index: number;
    readonly field: string;
    readonly reason: string;
    readonly itemId?: string;
  }[];
  /** Messages still failing after the last round (they would stay in the queue, then go to the DLQ). */
  readonly undelivered: number;
  readonly invocations: number;
}

/** A Lambda context for running a handler locally, whose remaining time counts down from `timeoutMs`. */
export function localLambdaContext(functionName: string, timeoutMs = 900_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: 'local',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: `local-${Date.now()}`,
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An SQS event as Lambda hands it over, one record per body. */
export function localSqsEvent(bodies: readonly { id: string; body: string }[], queue: string): SQSEvent {
  return {
    Records: bodies.map(({ id, body }) => ({
      messageId: id,
      receiptHandle: id,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:local:000000000000:${queue}`,
      awsRegion: 'local',
    })),
  };
}

/**
 * Sends events of one source through the real Lambda handler, as SQS batches, redelivering what the handler
 * returns like SQS would. Refused events are reported with their reason instead of going to a DLQ.
 */
export async function replayThroughHandler(
  source: SourceName,
  events: readonly unknown[],
  options: ReplayOptions,
): Promise<ReplayReport> {
  const functionName = source === 'guardduty' ? 'guardduty-findings' : 'iam-changes';
  const deadLetters = new MemoryDeadLetters();
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const handler = createForwarderHandler(source, {
    logger: new Logger({ serviceName: functionName, logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: functionName, namespace: 'AwsSentinelBridge' }),
    ingestion: options.ingestion,
    deadLetters,
  });
  if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = previous;

  const batchSize = options.batchSize ?? 1000;
  let pending = events.map((event, index) => ({ id: `replay-${index}`, body: JSON.stringify(event) }));
  let invocations = 0;
  for (let round = 0; round < (options.maxRounds ?? 5) && pending.length > 0; round++) {
    const failed: typeof pending = [];
    for (let start = 0; start < pending.length; start += batchSize) {
      const batch = pending.slice(start, start + batchSize);
      const response = await handler(localSqsEvent(batch, functionName), localLambdaContext(functionName));
      invocations++;
      const ids = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      failed.push(...batch.filter((m) => ids.has(m.id)));
    }
    pending = failed;
  }
  const refused = deadLetters.letters.map((l) => ({
    index: Number(l.messageId.slice('replay-'.length)),
    field: l.field,
    reason: l.reason,
    ...(l.itemId !== undefined ? { itemId: l.itemId } : {}),
  }));
  return {
    source,
    sent: events.length,
    delivered: events.length - refused.length - pending.length,
    refused,
    undelivered: pending.length,
    invocations,
  };
}
