/**
 * Handler of the Lambda `s3-logs` (wired in s3-logs.ts): CloudTrail trail files and VPC Flow Log files from S3 (S3 -> SQS notifications, also
 * through SNS or EventBridge) into Sentinel's AWSCloudTrail and AWSVPCFlow tables.
 *
 * Thin: each SQS message is a notification (one or more created objects) or one of our continuation messages
 * (the rest of an object); `forwardLogObject` reads each object. Messages are handled one after the other
 * within the invocation's time budget: a message not started when the budget is spent is queued again as it
 * is (nothing of it was read); the object being read when it is spent is continued from where it stopped.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  CONTINUATION_TYPE,
  continuationBody,
  continuationSchema,
  forwardLogObject,
  type LogObjectDeps,
  type LogObjectReport,
  type ResumeState,
} from '../shared/app/forward-log-object.js';
import { BridgeError, TransientError } from '../shared/domain/errors.js';
import { parseObjectNotifications } from '../shared/domain/s3/notifications.js';
import type { ObjectRef } from '../shared/ports/log-objects.js';

export interface S3LogsHandlerDeps extends LogObjectDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Buckets whose objects are read; others are refused. */
  readonly buckets: readonly string[];
  /** Time kept free at the end of the invocation to upload, hand over and report (default 60 s). */
  readonly safetyMarginMs?: number;
}

export type S3LogsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

interface Work {
  readonly object: ObjectRef;
  readonly resume?: ResumeState;
}

/** What a message asks for; a refusal is a message that can never succeed (dead-lettered). */
function workOf(body: string): { ok: true; work: Work[]; test?: boolean } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'message body is not JSON' };
  }
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    (parsed as { type?: unknown }).type === CONTINUATION_TYPE
  ) {
    const continuation = continuationSchema.safeParse(parsed);
    if (!continuation.success) {
      return {
        ok: false,
        reason: `malformed continuation message: ${continuation.error.issues[0]?.message ?? 'invalid'}`,
      };
    }
    const { object, resume } = continuation.data;
    const ref: ObjectRef = {
      bucket: object.bucket,
      key: object.key,
      ...(object.versionId ? { versionId: object.versionId } : {}),
    };
    return { ok: true, work: [{ object: ref, ...(resume ? { resume } : {}) }] };
  }
  const notifications = parseObjectNotifications(body);
  if (!notifications.ok) return { ok: false, reason: notifications.reason };
  return {
    ok: true,
    work: notifications.objects.map((o) => ({
      object: { bucket: o.bucket, key: o.key, ...(o.versionId ? { versionId: o.versionId } : {}) },
    })),
    ...(notifications.test ? { test: true } : {}),
  };
}

export function createS3LogsHandler(deps: S3LogsHandlerDeps): S3LogsHandler {
  const { logger, metrics } = deps;
  const processor = new BatchProcessor(EventType.SQS);
  const safetyMarginMs = deps.safetyMarginMs ?? 60_000;

  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const budgetMs = Math.max(1_000, context.getRemainingTimeInMillis() - safetyMarginMs);
    const signal = AbortSignal.timeout(budgetMs);
    // Uploads of the last batch may start a little past the read budget, and requests already sent may finish
    // later still (an aborted request may have been stored: its rows would arrive twice); never past the margin.
    const uploadSignal = AbortSignal.timeout(budgetMs + Math.floor(safetyMarginMs / 3));
    const abortSignal = AbortSignal.timeout(budgetMs + Math.floor((safetyMarginMs * 3) / 4));
    const reports: LogObjectReport[] = [];

    const record = async (message: SQSRecord): Promise<void> => {
      // A message not started once the budget is spent is queued again as it is (nothing of it was read): sent
      // anew it is visible at once, where a batch item failure would wait out the queue's visibility timeout.
      if (signal.aborted) {
        await deps.continuations.send(message.body);
        return;
      }
      /** A message (or one object of it) that can never succeed: to the DLQ at once, with the reason. */
      const refuse = async (body: string, field: string, reason: string, logged: Record<string, unknown>) => {
        const letter = {
          messageId: message.messageId,
          body,
          source: 's3-logs',
          field,
          reason: reason.slice(0, 1000),
        };
        const sent = await deps.deadLetters.send([letter], signal);
        if (sent.failed.length > 0) throw new TransientError('could not dead-letter a refused message');
        logger.warn('Refused and dead-lettered', { messageId: message.messageId, reason, ...logged });
      };
      const work = workOf(message.body);
      if (!work.ok) {
        await refuse(message.body, '', work.reason, {});
        return;
      }
      if (work.test) logger.info('S3 test event received', { messageId: message.messageId });
      for (const [index, item] of work.work.entries()) {
        const { bucket, key } = item.object;
        if (!deps.buckets.includes(bucket)) {
          const reason = `bucket ${bucket} is not one of the configured log buckets (LOGS_BUCKETS)`;
          await refuse(continuationBody(item.object, item.resume), 'bucket', reason, { bucket, key });
          continue;
        }
        if (signal.aborted) {
          // Objects of this notification not started yet: handed over as continuations without a position.
          for (const rest of work.work.slice(index))
            await deps.continuations.send(continuationBody(rest.object, rest.resume));
          return;
        }
        let report: LogObjectReport;
        try {
          report = await forwardLogObject(
            {
              object: item.object,
              messageId: message.messageId,
              ...(item.resume ? { resume: item.resume } : {}),
            },
            deps,
            { signal, uploadSignal, abortSignal },
          );
        } catch (error) {
          if (!(error instanceof BridgeError) || error.retryable) throw error;
          // E.g. a tampered continuation: retrying would never help.
          await refuse(message.body, '', error.message, { bucket, key });
          return;
        }
        reports.push(report);
        logger[report.status === 'refused' ? 'warn' : 'info']('Log object processed', {
          bucket: item.object.bucket,
          key: item.object.key,
          ...report,
        });
      }
    };

    const response = await processPartialResponse(event, record, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
    for (const report of reports) {
      const table = report.kind === 'vpcflow' ? 'AWSVPCFlow' : 'AWSCloudTrail';
      metrics.addMetric(`RowsDelivered${table}`, MetricUnit.Count, report.rows);
      metrics.addMetric('RecordsDeadLettered', MetricUnit.Count, report.refused);
      metrics.addMetric('ObjectBytesRead', MetricUnit.Bytes, report.bytesRead);
      metrics.addMetric('IngestionRequests', MetricUnit.Count, report.requests);
      if (report.status === 'continued') metrics.addMetric('ObjectsContinued', MetricUnit.Count, 1);
      if (report.status === 'done') metrics.addMetric('ObjectsCompleted', MetricUnit.Count, 1);
      if (report.status === 'refused') metrics.addMetric('ObjectsRefused', MetricUnit.Count, 1);
    }
    metrics.addMetric('EventsRetried', MetricUnit.Count, response.batchItemFailures.length);
    if (response.batchItemFailures.length > 0) {
      logger.warn('Messages returned to the queue for retry', {
        messageIds: response.batchItemFailures.map((f) => f.itemIdentifier),
      });
    }
    return response;
  };

  return middy(handle)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true })) as unknown as S3LogsHandler;
}
