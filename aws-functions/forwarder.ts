import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type ForwardDeps, type ForwardReport, forwardMessages } from '../shared/app/forward.js';
import { TransientError } from '../shared/domain/errors.js';
import type { SourceName } from '../shared/domain/sources.js';

export interface ForwarderHandlerDeps extends ForwardDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Time kept free at the end of an invocation so failures can still be reported (default 10 s). */
  readonly safetyMarginMs?: number;
}

export type ForwarderHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

function recordMetrics(metrics: Metrics, report: ForwardReport): void {
  metrics.addMetric('EventsReceived', MetricUnit.Count, report.received);
  metrics.addMetric('EventsDelivered', MetricUnit.Count, report.delivered);
  metrics.addMetric('EventsDeadLettered', MetricUnit.Count, report.deadLettered);
  metrics.addMetric('EventsRetried', MetricUnit.Count, report.retry);
  metrics.addMetric('DuplicatesInBatch', MetricUnit.Count, report.duplicatesInBatch);
  metrics.addMetric('FieldsTrimmed', MetricUnit.Count, report.trimmedFields);
  metrics.addMetric('IngestionRequests', MetricUnit.Count, report.requests);
  metrics.addMetric('IngestionBytes', MetricUnit.Bytes, report.bytes);
  metrics.addMetric('StaleTimestamps', MetricUnit.Count, report.staleTimestamps);
}

/** One log line per distinct reason (with the message ids), not one per message: a throttled batch of
 * 1,000 messages logs one line. */
function logOutcomes(logger: Logger, report: ForwardReport): void {
  const groups = new Map<
    string,
    {
      level: 'warn' | 'info';
      message: string;
      detail: Record<string, unknown>;
      messageIds: string[];
      itemIds: string[];
    }
  >();
  for (const [messageId, outcome] of report.outcomes) {
    let key: string;
    let level: 'warn' | 'info' = 'warn';
    let message: string;
    let detail: Record<string, unknown>;
    if (outcome.status === 'dead-lettered') {
      key = `dlq\u0000${outcome.field}\u0000${outcome.reason}`;
      message = 'Messages sent to the dead-letter queue';
      detail = { field: outcome.field, reason: outcome.reason };
    } else if (outcome.status === 'retry') {
      key = `retry\u0000${outcome.reason}`;
      message = 'Messages returned to the queue for retry';
      detail = { reason: outcome.reason };
    } else if (outcome.trimmed.length > 0) {
      key = `trim\u0000${outcome.trimmed.join(',')}`;
      level = 'info';
      message = 'Oversize values trimmed';
      detail = { columns: outcome.trimmed };
    } else continue;
    const group = groups.get(key) ?? { level, message, detail, messageIds: [], itemIds: [] };
    group.messageIds.push(messageId);
    if (outcome.itemId !== undefined) group.itemIds.push(outcome.itemId);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    const ids = {
      count: group.messageIds.length,
      messageIds: group.messageIds.slice(0, 50),
      itemIds: group.itemIds.slice(0, 50),
    };
    logger[group.level](group.message, { ...group.detail, ...ids });
  }
  if (report.deadLetterErrors.length > 0) {
    logger.error('Dead-letter queue refused messages; they return to the queue instead', {
      errors: [...new Set(report.deadLetterErrors)],
    });
  }
  if (report.staleTimestamps > 0) {
    logger.warn(
      'Rows older than 2 days or more than 1 day ahead: the service stamps them with the time of receipt',
      {
        count: report.staleTimestamps,
      },
    );
  }
  logger.info('Batch forwarded', {
    received: report.received,
    delivered: report.delivered,
    deadLettered: report.deadLettered,
    retry: report.retry,
    duplicatesInBatch: report.duplicatesInBatch,
    requests: report.requests,
    bytes: report.bytes,
  });
}

/**
 * The SQS-triggered forwarder: the whole batch is validated, normalised and uploaded at once by the shared
 * use case (few large requests instead of one per record), then Powertools' batch processor turns the
 * per-message outcomes into `batchItemFailures`, so only messages that must be retried return to the queue.
 */
export function createForwarderHandler(source: SourceName, deps: ForwarderHandlerDeps): ForwarderHandler {
  const { logger, metrics } = deps;
  const processor = new BatchProcessor(EventType.SQS);
  const safetyMarginMs = deps.safetyMarginMs ?? 10_000;

  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const budgetMs = Math.max(1_000, context.getRemainingTimeInMillis() - safetyMarginMs);
    // Uploads stop a little earlier, so rows the API refuses for good can still reach the DLQ in time.
    const uploadBudgetMs = Math.max(500, budgetMs - Math.min(5_000, Math.floor(budgetMs / 4)));
    const report = await forwardMessages(
      source,
      event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
      deps,
      { signal: AbortSignal.timeout(budgetMs), uploadSignal: AbortSignal.timeout(uploadBudgetMs) },
    );
    recordMetrics(metrics, report);
    logOutcomes(logger, report);
    const settle = async (record: SQSRecord): Promise<void> => {
      const outcome = report.outcomes.get(record.messageId);
      if (!outcome) throw new TransientError('no outcome recorded for this message');
      if (outcome.status === 'retry') throw new TransientError(outcome.reason);
    };
    return processPartialResponse(event, settle, processor, { context, throwOnFullBatchFailure: false });
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true, correlationIdPath: 'Records[0].messageId' }))
    .use(logMetrics(metrics, { captureColdStartMetric: true })) as unknown as ForwarderHandler;
}
