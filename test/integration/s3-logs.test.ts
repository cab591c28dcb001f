import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { SQSEvent } from 'aws-lambda';
import { createS3LogsHandler, type S3LogsHandlerDeps } from '../../aws-functions/s3-logs-handler.js';
import { createS3LogObjects } from '../../shared/adapters/aws/s3-log-objects.js';
import { createLogsIngestionAdapter } from '../../shared/adapters/azure/logs-ingestion.js';
import {
  type Continuation,
  continuationSchema,
  type Decoders,
  forwardLogObject,
  type LogObjectDeps,
  type LogObjectReport,
} from '../../shared/app/forward-log-object.js';
import { AWS_CLOUDTRAIL, AWS_VPCFLOW } from '../../shared/domain/tables/columns.js';
import { type IngestionServer, startIngestionServer } from '../../shared/local/ingestion-server.js';
import { MemoryDeadLetters } from '../../shared/local/memory-dead-letters.js';
import { type LocalS3Server, startLocalS3Server } from '../../shared/local/s3-server.js';
import type { ContinuationPort } from '../../shared/ports/log-objects.js';
import { createDecoder, detectEncoding, resumeDecoder } from '../../shared/streams/resumable-gunzip.js';
import { cloudTrailKey, flowLogGzip, flowLogKey, flowLogText, s3Notification } from '../support/flow-logs.js';
import { lambdaContext, quietObservability } from '../support/lambda.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const BUCKET = 'org-log-archive-123456789012';

let s3: LocalS3Server;
let ingestion: IngestionServer;
beforeAll(async () => {
  [s3, ingestion] = await Promise.all([startLocalS3Server(), startIngestionServer()]);
});
afterAll(async () => {
  await Promise.all([s3.close(), ingestion.close()]);
});
beforeEach(() => {
  s3.reset();
  ingestion.reset();
});

class QueueModel implements ContinuationPort {
  readonly bodies: string[] = [];
  async send(body: string): Promise<void> {
    this.bodies.push(body);
  }
  take(): string[] {
    return this.bodies.splice(0);
  }
}

/** Decoders with a small checkpoint interval, so a few-MB object has many resume points. */
const decoders = (checkpointInterval = 256 * 1024): Decoders => ({
  detect: detectEncoding,
  create: (encoding) => createDecoder(encoding, { checkpointInterval }),
  resume: (checkpoint) => resumeDecoder(checkpoint, { checkpointInterval }),
});

function baseDeps(queue: QueueModel, letters: MemoryDeadLetters, extra: Partial<LogObjectDeps> = {}) {
  return {
    objects: createS3LogObjects(
      new S3Client({
        endpoint: s3.endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test-secret-not-real' },
      }),
    ),
    ingestion: createLogsIngestionAdapter({
      endpoint: ingestion.endpoint,
      ruleId: ingestion.dcrImmutableId,
      credential: ingestion.credential,
      clientOptions: { tlsOptions: { ca: ingestion.ca }, retryOptions: { maxRetries: 0 } },
    }),
    deadLetters: letters,
    continuations: queue,
    decoders: decoders(),
    ...extra,
  } satisfies LogObjectDeps;
}

function handlerDeps(
  queue: QueueModel,
  letters: MemoryDeadLetters,
  extra: Partial<S3LogsHandlerDeps> = {},
): S3LogsHandlerDeps {
  return {
    ...quietObservability('s3-logs'),
    ...baseDeps(queue, letters),
    buckets: [BUCKET],
    ...extra,
  };
}

function sqs(bodies: readonly string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}-${Math.random().toString(16).slice(2)}`,
      receiptHandle: `r-${i}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '1764583500000',
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: '1764583500000',
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:s3-logs',
      awsRegion: 'us-east-1',
    })),
  };
}

/** Bytes of every stored row, the identity of each generated flow log line. */
const storedBytes = (): number[] =>
  ingestion
    .rows(AWS_VPCFLOW.table)
    .map((r) => Number(r.Bytes))
    .sort((a, b) => a - b);

/** Runs parts of one object until it is done, as the queue would redeliver each continuation. */
async function runToEnd(
  deps: LogObjectDeps,
  queue: QueueModel,
  key: string,
  stopAfterChunks: number,
): Promise<LogObjectReport[]> {
  const reports: LogObjectReport[] = [];
  let resume: Continuation['resume'];
  for (let part = 0; part < 200; part++) {
    // A budget that runs out after N chunks of the stored object: each part stops mid-object.
    const controller = new AbortController();
    let chunks = 0;
    const counting: LogObjectDeps = {
      ...deps,
      objects: {
        open: async (ref, options) => {
          const opened = await deps.objects.open(ref, options);
          return {
            ...opened,
            body: (async function* () {
              for await (const chunk of opened.body) {
                yield chunk;
                if (++chunks >= stopAfterChunks) controller.abort();
              }
            })(),
          };
        },
      },
    };
    const report = await forwardLogObject(
      { object: { bucket: BUCKET, key }, messageId: `part-${part}`, ...(resume ? { resume } : {}) },
      counting,
      { signal: controller.signal },
    );
    reports.push(report);
    if (report.status !== 'continued') return reports;
    const [body, ...more] = queue.take();
    expect(more).toEqual([]);
    const message = continuationSchema.parse(JSON.parse(body ?? '{}'));
    expect(message.object).toEqual({ bucket: BUCKET, key });
    resume = message.resume;
  }
  throw new Error('object never finished');
}

describe('s3-logs: VPC Flow Log objects', () => {
  it('delivers every line of a gzipped flow log once, as AWSVPCFlow rows with the right types', async () => {
    const key = flowLogKey();
    s3.putObject(BUCKET, key, flowLogGzip(2_000));
    const queue = new QueueModel();
    const letters = new MemoryDeadLetters();
    const report = await forwardLogObject(
      { object: { bucket: BUCKET, key }, messageId: 'm1' },
      baseDeps(queue, letters),
    );
    expect(report).toMatchObject({ status: 'done', kind: 'vpcflow', rows: 2_000, refused: 0, part: 1 });
    expect(storedBytes()).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
    const stats = ingestion.stats();
    expect(stats.typeErrors).toEqual([]);
    expect(stats.unknownColumns.size).toBe(0);
    const row = ingestion.rows(AWS_VPCFLOW.table).find((r) => r.Bytes === 5);
    expect(row).toEqual({
      TimeGenerated: '2025-11-24T16:00:05.000Z',
      Version: 2,
      AccountId: '123456789012',
      InterfaceId: 'eni-0a1b2c3d4e5f00005',
      SrcAddr: `10.0.${(5 * 7919) % 250}.${(5 * 104_729) % 250}`,
      DstAddr: `172.31.${(5 * 104_729) % 250}.${(5 * 7919) % 250}`,
      SrcPort: 1029,
      DstPort: 22,
      Protocol: 6,
      Packets: 6,
      Bytes: 5,
      Start: '2025-11-24T16:00:05.000Z',
      End: '2025-11-24T16:01:05.000Z',
      Action: 'REJECT',
      LogStatus: 'OK',
    });
    expect(queue.bodies).toEqual([]);
    expect(letters.letters).toEqual([]);
    expect(s3.bytesServed(BUCKET, key)).toBe(s3.served[0]?.end);
  });

  it('continues a large object from its last uploaded line: every line once, and no part re-reads from the start', async () => {
    const key = flowLogKey('123456789012', 'us-east-1', 7);
    const lines = 60_000;
    const data = flowLogGzip(lines);
    s3.putObject(BUCKET, key, data);
    const queue = new QueueModel();
    const letters = new MemoryDeadLetters();
    const reports = await runToEnd(baseDeps(queue, letters, { flushBytes: 512 * 1024 }), queue, key, 2);

    expect(reports.length).toBeGreaterThan(2);
    expect(reports.slice(0, -1).every((r) => r.status === 'continued')).toBe(true);
    expect(reports.at(-1)?.reason).toBeUndefined();
    expect(reports.at(-1)).toMatchObject({ status: 'done', rowsTotal: lines });
    expect(storedBytes()).toEqual(Array.from({ length: lines }, (_, i) => i));
    expect(letters.letters).toEqual([]);
    // Only the first part starts at byte 0; each later one starts where the one before stopped reading, or a
    // little before (at the deflate block boundary before its first line), never before the previous start.
    const starts = s3.served.map((r) => r.start);
    expect(starts[0]).toBe(0);
    for (let i = 1; i < starts.length; i++) expect(starts[i] ?? 0).toBeGreaterThan(starts[i - 1] ?? 0);
    // What the parts read together: the object once, plus at most the gaps between a stop and the block boundary
    // before it (the server may push more into the socket than a stopping part takes; that is not read).
    expect(reports.reduce((sum, r) => sum + r.bytesRead, 0)).toBeLessThan(data.length * 1.25);
  });

  it('continues a plain (not gzipped) flow log file from a byte offset', async () => {
    const key = 'custom/prefix/flows.log';
    s3.putObject(BUCKET, key, flowLogText(30_000));
    const queue = new QueueModel();
    const reports = await runToEnd(
      baseDeps(queue, new MemoryDeadLetters(), { flushBytes: 256 * 1024 }),
      queue,
      key,
      4,
    );
    expect(reports.length).toBeGreaterThan(1);
    expect(storedBytes()).toEqual(Array.from({ length: 30_000 }, (_, i) => i));
    expect(reports.reduce((sum, r) => sum + r.bytesRead, 0)).toBeLessThan(
      Buffer.byteLength(flowLogText(30_000)) * 1.1,
    );
    const starts = s3.served.map((r) => r.start);
    for (let i = 1; i < starts.length; i++) expect(starts[i] ?? 0).toBeGreaterThan(starts[i - 1] ?? 0);
  });

  it('resumes after a connection reset mid-object without losing or repeating a line', async () => {
    const key = flowLogKey('123456789012', 'eu-west-1', 3);
    s3.putObject(BUCKET, key, flowLogGzip(40_000));
    s3.cutNextResponseAfter(BUCKET, key, 150_000);
    const queue = new QueueModel();
    const deps = baseDeps(queue, new MemoryDeadLetters(), { flushBytes: 256 * 1024 });
    const first = await forwardLogObject({ object: { bucket: BUCKET, key }, messageId: 'm1' }, deps);
    expect(first.status).toBe('continued');
    expect(first.reason).toMatch(/reading the object failed/);
    const message = continuationSchema.parse(JSON.parse(queue.take()[0] ?? '{}'));
    const second = await forwardLogObject(
      {
        object: { bucket: BUCKET, key },
        messageId: 'm2',
        ...(message.resume ? { resume: message.resume } : {}),
      },
      deps,
    );
    expect(second).toMatchObject({ status: 'done', rowsTotal: 40_000 });
    expect(storedBytes()).toEqual(Array.from({ length: 40_000 }, (_, i) => i));
  });

  it('dead-letters refused lines with their line number and reason, and delivers the rest', async () => {
    const key = flowLogKey('123456789012', 'us-east-1', 9);
    const text = flowLogText(10)
      .replace(/\n(2 \S+ \S+ \S+ \S+ )1029 /, '\n$1port22 ')
      .concat('2 too few fields\n');
    s3.putObject(BUCKET, key, gzipSync(text));
    const letters = new MemoryDeadLetters();
    const report = await forwardLogObject(
      { object: { bucket: BUCKET, key }, messageId: 'm1' },
      baseDeps(new QueueModel(), letters),
    );
    expect(report).toMatchObject({ status: 'done', rows: 9, refused: 2 });
    const bodies = letters.letters.map((l) => JSON.parse(l.body) as Record<string, unknown>);
    expect(bodies.map((b) => b.line)).toEqual([7, 12]);
    expect(letters.letters[0]).toMatchObject({ field: 'srcport', source: 'vpcflow' });
    expect(letters.letters.every((l) => l.messageId === 'm1' && l.reason !== '')).toBe(true);
    expect(bodies[1]?.text).toBe('2 too few fields');
  });

  it('refuses a file without a flow log header, and a Parquet flow log, without uploading anything', async () => {
    s3.putObject(BUCKET, 'x/notes.txt', 'hello world\nthis is not a flow log\n');
    s3.putObject(BUCKET, flowLogKey().replace('.log.gz', '.log.parquet'), Buffer.from('PAR1....PAR1'));
    const letters = new MemoryDeadLetters();
    const deps = baseDeps(new QueueModel(), letters);
    const text = await forwardLogObject(
      { object: { bucket: BUCKET, key: 'x/notes.txt' }, messageId: 'm1' },
      deps,
    );
    expect(text).toMatchObject({ status: 'refused', rows: 0 });
    expect(text.reason).toMatch(/not a VPC Flow Log file/);
    const parquet = await forwardLogObject(
      { object: { bucket: BUCKET, key: flowLogKey().replace('.log.gz', '.log.parquet') }, messageId: 'm2' },
      deps,
    );
    expect(parquet).toMatchObject({ status: 'refused' });
    expect(parquet.reason).toMatch(/Parquet/);
    expect(s3.served.filter((r) => r.key.endsWith('.parquet'))).toEqual([]);
    expect(letters.letters).toHaveLength(2);
    expect(ingestion.requests).toEqual([]);
  });
});

describe('s3-logs: when the ingestion API refuses', () => {
  it('stops at the first row it must send again, continues from there, and loses nothing (duplicates = resent)', async () => {
    const key = flowLogKey('123456789012', 'us-east-1', 21);
    s3.putObject(BUCKET, key, flowLogGzip(30_000));
    const queue = new QueueModel();
    const deps = baseDeps(queue, new MemoryDeadLetters(), { flushBytes: 1024 * 1024 });
    // The third request fails with a 500 (no retries in these tests): its rows and those after it come again.
    ingestion.injectFaults(
      { kind: 'slow', delayMs: 0 },
      { kind: 'slow', delayMs: 0 },
      { kind: 'server-error' },
    );
    const first = await forwardLogObject({ object: { bucket: BUCKET, key }, messageId: 'm1' }, deps);
    expect(first.status).toBe('continued');
    expect(first.reason).toMatch(/did not take every row/);
    const message = continuationSchema.parse(JSON.parse(queue.take()[0] ?? '{}'));
    const second = await forwardLogObject(
      {
        object: { bucket: BUCKET, key },
        messageId: 'm2',
        ...(message.resume ? { resume: message.resume } : {}),
      },
      deps,
    );
    expect(second.status).toBe('done');
    const stored = storedBytes();
    expect([...new Set(stored)]).toEqual(Array.from({ length: 30_000 }, (_, i) => i));
    expect(stored.length - 30_000).toBe(first.resent);
  });

  it('dead-letters a row the API refuses for good with the row it sent, and delivers the others', async () => {
    const key = flowLogKey('123456789012', 'us-east-1', 22);
    s3.putObject(BUCKET, key, flowLogGzip(5_000));
    ingestion.rejectRowsWhere((row) => row.Bytes === 777);
    const letters = new MemoryDeadLetters();
    const report = await forwardLogObject(
      { object: { bucket: BUCKET, key }, messageId: 'm1' },
      baseDeps(new QueueModel(), letters),
    );
    expect(report).toMatchObject({ status: 'done', rows: 4_999, refused: 1 });
    const letter = JSON.parse(letters.letters[0]?.body ?? '{}') as { line?: number; text?: string };
    expect(letter.line).toBe(779);
    expect(JSON.parse(letter.text ?? '{}')).toMatchObject({ Bytes: 777, Action: 'ACCEPT' });
    expect(letters.letters[0]?.reason).toMatch(/HTTP 400/);
  });
});

describe('s3-logs: CloudTrail trail files', () => {
  it('delivers every record of a gzipped trail file as an AWSCloudTrail row', async () => {
    const file = await readFile(join(FIXTURES, 's3/cloudtrail-log-file.json'), 'utf8');
    const key = cloudTrailKey();
    s3.putObject(BUCKET, key, gzipSync(file));
    const report = await forwardLogObject(
      { object: { bucket: BUCKET, key }, messageId: 'm1' },
      baseDeps(new QueueModel(), new MemoryDeadLetters()),
    );
    const records = (JSON.parse(file) as { Records: { eventID: string }[] }).Records;
    expect(report).toMatchObject({ status: 'done', kind: 'cloudtrail', rows: records.length });
    expect(
      ingestion
        .rows(AWS_CLOUDTRAIL.table)
        .map((r) => r.AwsEventId)
        .sort(),
    ).toEqual(records.map((r) => r.eventID).sort());
    expect(ingestion.stats().typeErrors).toEqual([]);
  });

  it('continues a large trail file record by record, each record once', async () => {
    const base = JSON.parse(await readFile(join(FIXTURES, 's3/cloudtrail-log-file.json'), 'utf8')) as {
      Records: Record<string, unknown>[];
    };
    const template = base.Records[0] as Record<string, unknown>;
    // Random request parameters, so the file does not gzip into a single chunk.
    const records = Array.from({ length: 3_000 }, (_, i) => ({
      ...template,
      eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      requestParameters: { nonce: randomBytes(150).toString('base64') },
    }));
    const key = cloudTrailKey('123456789012', 'us-east-1', 5);
    s3.putObject(BUCKET, key, gzipSync(JSON.stringify({ Records: records })));
    const queue = new QueueModel();
    const reports = await runToEnd(
      baseDeps(queue, new MemoryDeadLetters(), { flushBytes: 256 * 1024 }),
      queue,
      key,
      2,
    );
    expect(reports.length).toBeGreaterThan(1);
    expect(reports.at(-1)).toMatchObject({ status: 'done', rowsTotal: 3_000 });
    const ids = ingestion.rows(AWS_CLOUDTRAIL.table).map((r) => String(r.AwsEventId));
    expect(ids).toHaveLength(3_000);
    expect(new Set(ids).size).toBe(3_000);
  });

  it('skips digest files without reading them, and the trail records the real-time pipeline already forwards', async () => {
    const digestKey =
      'AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/12/01/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20261201T100500Z.json.gz';
    s3.putObject(BUCKET, digestKey, gzipSync(await readFile(join(FIXTURES, 's3/cloudtrail-digest.json'))));
    const deps = baseDeps(new QueueModel(), new MemoryDeadLetters(), {
      skipRecord: (record) => record.eventName === 'TagRole',
    });
    const digest = await forwardLogObject(
      { object: { bucket: BUCKET, key: digestKey }, messageId: 'm1' },
      deps,
    );
    expect(digest.status).toBe('skipped');
    expect(s3.served).toEqual([]);

    const key = cloudTrailKey('123456789012', 'us-east-1', 2);
    s3.putObject(BUCKET, key, gzipSync(await readFile(join(FIXTURES, 's3/cloudtrail-log-file.json'))));
    const report = await forwardLogObject({ object: { bucket: BUCKET, key }, messageId: 'm2' }, deps);
    expect(report).toMatchObject({ status: 'done', skipped: 1, rows: 2 });
    expect(ingestion.rows(AWS_CLOUDTRAIL.table).map((r) => r.EventName)).not.toContain('TagRole');
  });
});

describe('s3-logs handler', () => {
  it('reads the objects of a notification, continues what it cannot finish, and ends with every row once', async () => {
    const flowKey = flowLogKey('123456789012', 'us-east-1', 11);
    const trailKey = cloudTrailKey('123456789012', 'us-east-1', 11);
    s3.putObject(BUCKET, flowKey, flowLogGzip(250_000));
    s3.putObject(BUCKET, trailKey, gzipSync(await readFile(join(FIXTURES, 's3/cloudtrail-log-file.json'))));
    const queue = new QueueModel();
    const letters = new MemoryDeadLetters();
    // A budget of three seconds per invocation: the flow log needs more than one.
    const handler = createS3LogsHandler(handlerDeps(queue, letters, { safetyMarginMs: 3_000 }));
    let bodies = [s3Notification(BUCKET, [flowKey, trailKey])];
    let invocations = 0;
    while (bodies.length > 0 && invocations < 100) {
      invocations++;
      const response = await handler(sqs(bodies), lambdaContext('s3-logs', 6_000));
      expect(response.batchItemFailures).toEqual([]);
      bodies = queue.take();
    }
    expect(invocations).toBeGreaterThan(1);
    expect(storedBytes()).toEqual(Array.from({ length: 250_000 }, (_, i) => i));
    expect(ingestion.rows(AWS_CLOUDTRAIL.table)).toHaveLength(3);
    expect(letters.letters).toEqual([]);
  });

  it('dead-letters objects of other buckets, malformed messages and tampered continuations, and accepts the S3 test event', async () => {
    const queue = new QueueModel();
    const letters = new MemoryDeadLetters();
    const handler = createS3LogsHandler(handlerDeps(queue, letters));
    const test = await readFile(join(FIXTURES, 's3/s3-test-event.json'), 'utf8');
    const tampered = JSON.stringify({
      type: 'aws-sentinel-bridge/s3-logs-continuation',
      object: { bucket: BUCKET, key: flowLogKey() },
      resume: {
        v: 1,
        kind: 'vpcflow',
        encoding: 'gzip',
        etag: '"x"',
        part: 2,
        checkpoint: { format: 'gzip', compressedOffset: -1 },
        offset: 0,
        rowsSoFar: 0,
      },
    });
    const response = await handler(
      sqs([s3Notification('someone-elses-bucket', [flowLogKey()]), 'not json', test, tampered]),
      lambdaContext('s3-logs', 60_000),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(letters.letters.map((l) => l.field)).toEqual(['bucket', '', '']);
    expect(letters.letters[0]?.reason).toMatch(/not one of the configured log buckets/);
    expect(letters.letters[1]?.reason).toBe('message body is not JSON');
    expect(letters.letters[2]?.reason).toMatch(/checkpoint/);
    expect(s3.served).toEqual([]);
    expect(ingestion.requests).toEqual([]);
  });

  it('returns a message for retry when the object cannot be read for now, and dead-letters a deleted one', async () => {
    const queue = new QueueModel();
    const letters = new MemoryDeadLetters();
    const handler = createS3LogsHandler(
      handlerDeps(queue, letters, {
        objects: {
          open: async () => {
            throw new Error('connect ECONNREFUSED');
          },
        },
      }),
    );
    s3.putObject(BUCKET, flowLogKey(), flowLogGzip(10));
    const event = sqs([s3Notification(BUCKET, [flowLogKey()])]);
    const response = await handler(event, lambdaContext('s3-logs', 60_000));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);

    const real = createS3LogsHandler(handlerDeps(queue, letters));
    const gone = await real(
      sqs([s3Notification(BUCKET, ['AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/12/01/gone.log.gz'])]),
      lambdaContext('s3-logs', 60_000),
    );
    expect(gone.batchItemFailures).toEqual([]);
    expect(letters.letters.map((l) => l.reason)).toEqual([expect.stringMatching(/does not exist/)]);
  });
});
