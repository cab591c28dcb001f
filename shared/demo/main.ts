/**
 * Offline end-to-end demo (`npm run demo`): a local Logs Ingestion API over HTTPS, the project's sample
 * GuardDuty findings and CloudTrail IAM changes sent through the real Lambda handlers as SQS batches, one
 * injected failure and one poison message to show what happens to them, then what landed per table and the
 * reference queries of Microsoft's zero-trust guidance evaluated over the landed rows.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { S3Client } from '@aws-sdk/client-s3';
import { createS3LogsHandler } from '../../aws-functions/s3-logs-handler.js';
import { createS3LogObjects } from '../adapters/aws/s3-log-objects.js';
import { createLogsIngestionAdapter } from '../adapters/azure/logs-ingestion.js';
import { localLambdaContext, localSqsEvent, replayThroughHandler } from '../cli/replay.js';
import type { SourceName } from '../domain/sources.js';
import { REFERENCE_QUERIES } from '../domain/tables/reference-queries.js';
import { startIngestionServer } from '../local/ingestion-server.js';
import { MemoryDeadLetters } from '../local/memory-dead-letters.js';
import { startLocalS3Server } from '../local/s3-server.js';
import type { LogsIngestionPort } from '../ports/logs-ingestion.js';
import { createDecoder, detectEncoding, resumeDecoder } from '../streams/resumable-gunzip.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SAMPLES: Readonly<Record<SourceName, string>> = {
  guardduty: join(ROOT, 'test/fixtures/guardduty'),
  cloudtrail: join(ROOT, 'test/fixtures/cloudtrail'),
};

type Rows = readonly Record<string, unknown>[];

/** The reference queries, evaluated in plain code over the rows the local server stored. */
const EVALUATE: Readonly<Record<string, (rows: Rows) => Record<string, number>>> = {
  'high-severity GuardDuty findings by type': (rows) =>
    countBy(
      rows.filter((r) => Number(r.Severity) > 7),
      'ActivityType',
    ),
  'IAM users created by region': (rows) =>
    countBy(
      rows.filter((r) => r.EventName === 'CreateUser'),
      'AWSRegion',
    ),
  'rejected IPv4 flows': (rows) =>
    countBy(rows.filter((r) => r.Action === 'REJECT' && r.TrafficType === 'IPv4').slice(0, 10), 'DstPort'),
};

function countBy(rows: Rows, column: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) {
    const key = String(row[column] ?? '');
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Sample files hold EventBridge events or bare findings/records; the queue always carries envelopes. */
function asEnvelope(source: SourceName, value: Record<string, unknown>): Record<string, unknown> {
  if ('detail' in value) return value;
  return source === 'guardduty'
    ? { version: '0', 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', detail: value }
    : { version: '0', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.iam', detail: value };
}

async function loadSamples(source: SourceName): Promise<Record<string, unknown>[]> {
  const dir = SAMPLES[source];
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const events: Record<string, unknown>[] = [];
  for (const file of files) {
    events.push(
      asEnvelope(source, JSON.parse(await readFile(join(dir, file), 'utf8')) as Record<string, unknown>),
    );
  }
  return events;
}

/**
 * A flow log file of `lines` records (every line distinct) in a custom version 3 format, the way AWS delivers
 * it: a header line naming the fields, then one space-separated record per line, gzipped.
 */
function flowLogFile(lines: number): Buffer {
  const out = [
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr',
  ];
  for (let n = 0; n < lines; n++) {
    const start = 1_764_583_200 + (n % 600);
    const v6 = n % 10 === 9;
    const src = v6 ? `2001:db8::${(n % 9000).toString(16)}` : `10.0.${n % 250}.${(n * 7) % 250}`;
    const dst = v6 ? `2001:db8:1::${(n % 700).toString(16)}` : `172.31.${(n * 3) % 250}.${n % 200}`;
    out.push(
      `3 123456789012 eni-0a1b2c3d4e5f${String(n % 1000).padStart(5, '0')} ${src} ${dst} ${1024 + (n % 60_000)} ${[22, 443, 80, 3389][n % 4]} 6 ${1 + (n % 50)} ${40 + n} ${start} ${start + 60} ${n % 4 === 0 ? 'REJECT' : 'ACCEPT'} OK vpc-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002 i-0a1b2c3d4e5f6${String(n % 100).padStart(4, '0')} 2 ${v6 ? 'IPv6' : 'IPv4'} ${src} ${dst}`,
    );
  }
  return gzipSync(`${out.join('\n')}\n`);
}

/**
 * The bulk-logs path: a local S3 server holds a gzipped VPC Flow Log file and a CloudTrail trail file; their
 * S3 notification goes through the real s3-logs handler with a short time budget, so the flow log takes
 * several invocations, each continuing where the one before stopped.
 */
async function demoBulkLogs(ingestion: LogsIngestionPort): Promise<void> {
  const s3 = await startLocalS3Server();
  try {
    const bucket = 'demo-log-archive-123456789012';
    const flowKey =
      'AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/12/01/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261201T1000Z_0a1b2c3d.log.gz';
    const trailKey =
      'AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/01/123456789012_CloudTrail_us-east-1_20261201T1005Z_0123456789abcdef.json.gz';
    const lines = 100_000;
    const flowLog = flowLogFile(lines);
    s3.putObject(bucket, flowKey, flowLog);
    s3.putObject(
      bucket,
      trailKey,
      gzipSync(await readFile(join(ROOT, 'test/fixtures/s3/cloudtrail-log-file.json'))),
    );
    const continuations: string[] = [];
    const letters = new MemoryDeadLetters();
    const handler = createS3LogsHandler({
      logger: new Logger({ serviceName: 's3-logs', logLevel: 'SILENT' }),
      metrics: new Metrics({ serviceName: 's3-logs', namespace: 'Demo' }),
      objects: createS3LogObjects(
        new S3Client({
          endpoint: s3.endpoint,
          forcePathStyle: true,
          region: 'us-east-1',
          credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'demo-only-not-a-secret' },
        }),
      ),
      ingestion,
      deadLetters: letters,
      continuations: { send: async (body) => void continuations.push(body) },
      decoders: {
        detect: detectEncoding,
        create: (e) => createDecoder(e, { checkpointInterval: 256 * 1024 }),
        resume: (c) => resumeDecoder(c, { checkpointInterval: 256 * 1024 }),
      },
      buckets: [bucket],
      // A one-second budget per invocation (the deployed function has 840 s), to show continuations.
      safetyMarginMs: 1_000,
    });
    const notification = JSON.stringify({
      Records: [flowKey, trailKey].map((key) => ({
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName: 'ObjectCreated:Put',
        eventTime: '2026-12-01T10:05:00.000Z',
        s3: { bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key, size: 1 } },
      })),
    });
    let bodies = [notification];
    let invocations = 0;
    while (bodies.length > 0 && invocations < 200) {
      invocations++;
      const event = localSqsEvent(
        bodies.map((body, i) => ({ id: `demo-${invocations}-${i}`, body })),
        's3-logs',
      );
      const response = await handler(event, localLambdaContext('s3-logs', 2_000));
      if (response.batchItemFailures.length > 0) throw new Error('s3-logs returned messages for retry');
      bodies = continuations.splice(0);
    }
    const read = s3.served.filter((r) => r.key === flowKey);
    console.log(
      `\ns3-logs: a ${(flowLog.length / 1e6).toFixed(1)} MB gzipped VPC Flow Log file (${lines.toLocaleString('en-US')} lines) and a CloudTrail trail file, ` +
        `${invocations} invocations (1 s budget each): the flow log was read in ${read.length} parts, each a Range request ` +
        `from where the one before stopped (${read.map((r) => r.start).join(', ')}), ${letters.letters.length} lines to the DLQ`,
    );
  } finally {
    await s3.close();
  }
}

function pick(row: Record<string, unknown>, columns: readonly string[]): string {
  return columns.map((c) => `${c}=${JSON.stringify(row[c] ?? null)}`).join('  ');
}

async function main(): Promise<void> {
  const started = Date.now();
  const server = await startIngestionServer();
  console.log(
    `Local Logs Ingestion API listening on ${server.endpoint} (HTTPS, self-signed certificate, bearer token)`,
  );
  const ingestion = createLogsIngestionAdapter({
    endpoint: server.endpoint,
    ruleId: server.dcrImmutableId,
    credential: server.credential,
    clientOptions: { tlsOptions: { ca: server.ca }, retryOptions: { maxRetries: 0 } },
  });

  try {
    for (const source of ['guardduty', 'cloudtrail'] as const) {
      const events: unknown[] = await loadSamples(source);
      // One message that can never succeed, to show the dead-letter path.
      events.push(
        source === 'guardduty'
          ? {
              'detail-type': 'GuardDuty Finding',
              detail: { id: 'poison-1', type: 'Recon:EC2/Portscan', severity: 'high' },
            }
          : {
              'detail-type': 'AWS API Call via CloudTrail',
              detail: { eventID: 'poison-2', eventName: 'CreateUser' },
            },
      );
      // The first upload fails with a 500: its messages go back to the queue and are redelivered.
      server.injectFaults({ kind: 'server-error' });
      const report = await replayThroughHandler(source, events, { ingestion, batchSize: 1000 });
      console.log(
        `\n${source === 'guardduty' ? 'guardduty-findings' : 'iam-changes'}: ${report.sent} SQS messages, ` +
          `${report.delivered} delivered, ${report.refused.length} to the DLQ, ${report.undelivered} lost, ` +
          `${report.invocations} invocations (the first upload got HTTP 500 and was redelivered)`,
      );
      for (const r of report.refused) {
        console.log(`  DLQ: ${r.itemId ?? '(no id)'}: ${r.field || '(item)'}: ${r.reason}`);
      }
    }

    await demoBulkLogs(ingestion);

    const stats = server.stats();
    console.log('\nWhat landed in the workspace:');
    for (const table of ['AWSGuardDuty', 'AWSCloudTrail', 'AWSVPCFlow']) {
      console.log(`  ${table.padEnd(14)} ${stats.rows[table] ?? 0} rows`);
    }
    console.log(
      `  ${stats.requests} requests (${stats.acceptedRequests} accepted, ${stats.faultedRequests} failed by injection), ` +
        `${stats.uncompressedBytes} bytes of JSON sent as ${stats.bodyBytes} bytes gzipped`,
    );
    console.log(
      `  undeclared columns: ${stats.unknownColumns.size}, type errors: ${stats.typeErrors.length}, values over 64 KB: ${stats.oversizeFields.length}`,
    );

    console.log('\nA few rows:');
    for (const row of server.rows('AWSGuardDuty').slice(0, 3)) {
      console.log(
        `  AWSGuardDuty   ${pick(row, ['TimeGenerated', 'AccountId', 'Region', 'Severity', 'ActivityType'])}`,
      );
    }
    for (const row of server.rows('AWSVPCFlow').slice(0, 2)) {
      console.log(
        `  AWSVPCFlow     ${pick(row, ['TimeGenerated', 'SrcAddr', 'DstAddr', 'DstPort', 'Action', 'TrafficType'])}`,
      );
    }
    for (const row of server.rows('AWSCloudTrail').slice(0, 3)) {
      console.log(
        `  AWSCloudTrail  ${pick(row, ['TimeGenerated', 'EventName', 'UserIdentityType', 'UserIdentityArn', 'SourceIpAddress'])}`,
      );
    }

    console.log("\nReference queries (Microsoft's zero-trust guidance for AWS), evaluated over these rows:");
    for (const query of REFERENCE_QUERIES) {
      const evaluate = EVALUATE[query.name];
      console.log(`  ${query.kql}`);
      if (evaluate) {
        const result = evaluate(server.rows(query.table));
        for (const [key, count] of Object.entries(result)) console.log(`      ${key || '(empty)'}: ${count}`);
        if (Object.keys(result).length === 0) console.log('      (no rows)');
      }
      if (query.note) console.log(`      note: ${query.note}`);
    }
    console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
